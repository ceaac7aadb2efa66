package rt

import (
	"runtime"
	"sync/atomic"
	"time"
)

// rtPool is a fixed set of worker goroutines that run a layer's tasks,
// with the calling goroutine as one of them. Task range [0, n) is cut into
// one contiguous share per goroutine, which it works through from the
// front; one that is done takes the others' remaining tasks from the back
// (rtShare). So tasks of unequal size (a ragged last column) balance, and a
// worker whose thread the OS has given to another process holds up
// nobody: the others take its tasks, and the caller takes back a job the
// worker has not started (rtWorker.taken). With a static split alone, a
// busy second core made SqueezeNet 8x slower on 2 threads than on 1 (47.5
// against 5.7 ms: each step waited for the worker's next time slice).
// A shared task counter instead of shares balanced as well but cost
// 10-15% on a quiet machine (MobileNetV2, GoogLeNet, SqueezeNet on 2
// threads): the goroutines' tasks interleaved, and neighbouring tasks
// share their filters. Nothing is allocated per run, so inference stays
// allocation-free.
//
// An inference is a few dozen steps, some of them only tens of
// microseconds long at batch 1, so handing a step to a parked goroutine
// (a channel send, a wake-up through the scheduler and the OS, and the
// same back) would cost a noticeable share of it. Workers therefore spin
// on their mailbox for up to rtPoolSpin after each job before they park,
// and the caller spins while it waits for them: within an inference a
// step reaches a worker that is already running.
type rtPool struct {
	workers int
	w       []*rtWorker // one per extra worker
	shares  []rtShare   // the running step's shares, one per goroutine
}

// rtShare is one goroutine's share of a step's tasks, [lo, hi) in one
// word: the owner takes lo, the others take hi-1, by compare-and-swap.
type rtShare struct {
	lohi atomic.Uint64
	_    [56]byte // keep shares off each other's cache lines
}

func (s *rtShare) set(lo, hi int) { s.lohi.Store(uint64(lo)<<32 | uint64(hi)) }

// take claims the share's first task (front) or its last, and reports
// whether one was left.
func (s *rtShare) take(front bool) (int, bool) {
	for {
		v := s.lohi.Load()
		lo, hi := int(v>>32), int(uint32(v))
		if lo >= hi {
			return 0, false
		}
		t, next := hi-1, uint64(lo)<<32|uint64(hi-1)
		if front {
			t, next = lo, uint64(lo+1)<<32|uint64(hi)
		}
		if s.lohi.CompareAndSwap(v, next) {
			return t, true
		}
	}
}

// rtPoolSpin is how long an idle worker, or the caller waiting for one,
// polls before it parks or yields.
const rtPoolSpin = 200 * time.Microsecond

// rtWorker is one extra worker's mailbox. state, taken and done count
// jobs: the caller writes job, then counts it in state; whichever of the
// worker and the caller first moves taken to that count owns the job (the
// worker runs it, the caller retracts it), and the worker sets done to the
// count once it has run it.
//
// state is twice the number of jobs posted, plus rtAsleep while the
// worker is parked (or about to park). One word, so that the worker's "no
// new job: I park" and the caller's "a new job: is it parked?" are each
// one read-modify-write, and one of them always sees the other. With the
// count and a sleeping flag in two words, that took a store followed by a
// load of the other word on each side, kept in order; qemu's arm64
// emulation on x86 did not keep it, and a worker slept through its job.
type rtWorker struct {
	job   rtJob
	state atomic.Uint64
	taken atomic.Uint64
	done  atomic.Uint64
	wake  chan struct{} // buffered: a token wakes a parked worker
	quit  atomic.Bool
	_     [64]byte // keep workers' counters off each other's cache lines
}

// rtAsleep is the bit of rtWorker.state set while the worker is parked.
const rtAsleep = 1

type rtJob struct {
	f      func(worker, task int)
	first  int
	shares []rtShare // the pool's, one per goroutine of the step
	worker int       // this goroutine's worker number and share
}

// claim runs the tasks of j's own share from the front, then those left in
// the others' from the back, until none is left.
func (j *rtJob) claim() {
	for i := range j.shares {
		s := &j.shares[(j.worker+i)%len(j.shares)]
		for {
			t, ok := s.take(i == 0)
			if !ok {
				break
			}
			j.f(j.worker, j.first+t)
		}
	}
}

// rtThreadsPerProc caps a pool's workers at this many per
// runtime.GOMAXPROCS(0). Workers beyond one per processor only take turns,
// spinning while they wait, and each holds its own scratch memory, so a
// larger request (Options{Threads: 100000}) would only start goroutines
// and allocate buffers that slow Infer down.
const rtThreadsPerProc = 4

// rtClampThreads returns the number of workers a request for n gives:
// runtime.GOMAXPROCS(0) for n <= 0, else n, but at most rtThreadsPerProc
// times runtime.GOMAXPROCS(0).
func rtClampThreads(n int) int {
	procs := runtime.GOMAXPROCS(0)
	if n <= 0 {
		return procs
	}
	return min(n, rtThreadsPerProc*procs)
}

// rtNewPool starts a pool of n workers (the caller counts as one).
func rtNewPool(n int) *rtPool {
	n = max(n, 1)
	p := &rtPool{workers: n, w: make([]*rtWorker, n-1), shares: make([]rtShare, n)}
	for i := range p.w {
		w := &rtWorker{wake: make(chan struct{}, 1)}
		p.w[i] = w
		go w.loop()
	}
	return p
}

func (w *rtWorker) loop() {
	var seen uint64 // jobs taken
	for {
		// Spin for the next job, then park until woken.
		for start, i := time.Now(), 0; ; i++ {
			s := w.state.Load()
			if s>>1 != seen {
				break
			}
			if w.quit.Load() {
				return
			}
			if i&255 == 255 && time.Since(start) > rtPoolSpin {
				// Park, unless a job was posted since s was read: then
				// the swap fails and the loop takes the job.
				if w.state.CompareAndSwap(s, s|rtAsleep) {
					<-w.wake
				}
				start, i = time.Now(), 0
			}
		}
		if w.quit.Load() {
			return
		}
		seen = w.state.Load() >> 1
		if !w.taken.CompareAndSwap(seen-1, seen) {
			// The caller took the job back (or a newer one is posted
			// already and this is its count): job belongs to the caller.
			continue
		}
		j := w.job
		j.claim()
		// Drop the job's function before reporting: it is a method value
		// of the Model, which a parked worker must not keep alive (the
		// Model's cleanup closes the pool and unmaps its memory).
		w.job = rtJob{}
		w.done.Store(seen)
	}
}

// post hands worker w job j: it counts the job and clears rtAsleep in one
// step, and wakes the worker if the bit was set.
func (w *rtWorker) post(j rtJob) {
	w.job = j
	for {
		old := w.state.Load()
		if w.state.CompareAndSwap(old, old&^rtAsleep+2) {
			if old&rtAsleep != 0 {
				select {
				case w.wake <- struct{}{}:
				default: // a token is already waiting
				}
			}
			return
		}
	}
}

// wait returns when w has finished every job posted to it, or, if it has
// not started the last one, once it has taken that job back: the caller
// calls it when every task is claimed, so the job has nothing left to do.
func (w *rtWorker) wait() {
	want := w.state.Load() >> 1
	if w.taken.CompareAndSwap(want-1, want) {
		// Retracted: the worker will not touch it, so drop its function
		// here (see loop).
		w.job = rtJob{}
		return
	}
	for start, i := time.Now(), 0; w.done.Load() != want; i++ {
		if i&255 == 255 && time.Since(start) > rtPoolSpin {
			runtime.Gosched() // a long job: let others run meanwhile
		}
	}
}

// run calls f(worker, t) for every t in [first, first+n) and returns when
// all are done. Calls with the same worker number never overlap, so f may
// use per-worker scratch memory.
func (p *rtPool) run(first, n int, f func(worker, task int)) {
	k := min(p.workers, n)
	if k <= 1 {
		for t := range n {
			f(0, first+t)
		}
		return
	}
	shares := p.shares[:k]
	for w := range shares {
		shares[w].set(w*n/k, (w+1)*n/k)
	}
	for w := 1; w < k; w++ {
		p.w[w-1].post(rtJob{f: f, first: first, shares: shares, worker: w})
	}
	j := rtJob{f: f, first: first, shares: shares}
	j.claim()
	for w := 1; w < k; w++ {
		p.w[w-1].wait()
	}
}

// rtStep is one layer's share of an inference: tasks [first, first+n) of
// f, for layer number layer (an index into the generated Layers table). A
// layer computed a group of images at a time has a step per group, and
// first tells its tasks which group. The steps marked img come first:
// they are the image-major prefix, whose tasks are one image's, the image
// of their worker's lane (Model.lanes), and Model.runPrefix runs them all
// for one image, then for the next.
type rtStep struct {
	first, n int
	f        func(worker, task int)
	layer    int
	img      bool
}

// close stops the workers. The pool must not be used afterwards.
func (p *rtPool) close() {
	for _, w := range p.w {
		w.quit.Store(true)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	p.w = nil
	p.workers = 1
}
