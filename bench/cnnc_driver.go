//go:build ignore

// This file is the timing driver for cnnc's side of the benchmark. It is not
// part of the cnnc module: bench/bench.py copies it into a scratch module
// next to the package that `cnnc compile -pkg model -batch B` wrote, and
// builds it there.
//
// It loads the weights, reads one batch of Batch images (raw little-endian
// float32, InputLen values), runs Infer -warmup times, then times up to
// -runs calls (fewer, but at least -min-runs, when the runs would take
// longer than -budget seconds), writes the last output as raw float32 to
// -output and prints one JSON line with the times in milliseconds,
// load_ms: how long opening the weights file and NewWithOptions took, and
// peak_rss_bytes: the process's peak resident set (VmHWM; 0 where
// /proc/self/status has none).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"cnncbench/model"
)

func main() {
	weights := flag.String("weights", "", "weights `file` (safetensors)")
	input := flag.String("input", "", "input `file`: raw float32, InputLen values")
	output := flag.String("output", "", "output `file`: raw float32, OutputLen values")
	threads := flag.Int("threads", 1, "Options.Threads")
	warmup := flag.Int("warmup", 3, "untimed runs first")
	runs := flag.Int("runs", 30, "timed runs at most")
	minRuns := flag.Int("min-runs", 5, "timed runs at least")
	budget := flag.Float64("budget", 20, "`seconds` the timed runs should take at most")
	flag.Parse()

	start := time.Now()
	f, err := os.Open(*weights)
	check(err)
	m, err := model.NewWithOptions(f, model.Options{Threads: *threads})
	check(err)
	f.Close()
	load := time.Since(start)

	src := new([model.InputLen]float32)
	dst := new([model.OutputLen]float32)
	raw, err := os.ReadFile(*input)
	check(err)
	if len(raw) != 4*len(src) {
		check(fmt.Errorf("%s: %d bytes, want %d", *input, len(raw), 4*len(src)))
	}
	for i := range src {
		src[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}

	var warm []float64
	for i := 0; i < max(*warmup, 1); i++ {
		warm = append(warm, timeOne(m, dst, src))
	}
	n := *runs
	if est := median(warm); est > 0 {
		n = min(n, int(*budget*1000/est))
	}
	n = max(n, *minRuns, 1)
	times := make([]float64, n)
	for i := range times {
		times[i] = timeOne(m, dst, src)
	}

	rss := peakRSS()
	out := make([]byte, 4*len(dst))
	for i, v := range dst {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	check(os.WriteFile(*output, out, 0o644))
	check(json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl":           m.Impl(),
		"threads":        m.Threads(),
		"load_ms":        float64(load.Nanoseconds()) / 1e6,
		"peak_rss_bytes": rss,
		"warmup_ms":      warm,
		"times_ms":       times,
	}))
}

func timeOne(m *model.Model, dst *[model.OutputLen]float32, src *[model.InputLen]float32) float64 {
	t := time.Now()
	m.Infer(dst, src)
	return float64(time.Since(t).Nanoseconds()) / 1e6
}

// peakRSS is the process's peak resident set in bytes, VmHWM in
// /proc/self/status (which, unlike the getrusage of a child, does not
// count what the parent had resident when it forked), or 0.
func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cnnc driver:", err)
		os.Exit(1)
	}
}
