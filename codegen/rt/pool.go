package rt

import "sync"

// rtPool is a fixed set of worker goroutines that run a layer's tasks with a
// static split: task range [0, n) is cut into one contiguous chunk per
// worker, and the calling goroutine works on the first chunk itself. Nothing
// is allocated per run, so inference stays allocation-free.
type rtPool struct {
	workers int
	jobs    []chan rtJob // one per extra worker
	wg      sync.WaitGroup
}

type rtJob struct {
	f      func(worker, task int)
	lo, hi int
	worker int
}

// rtNewPool starts a pool of n workers (the caller counts as one).
func rtNewPool(n int) *rtPool {
	n = max(n, 1)
	p := &rtPool{workers: n, jobs: make([]chan rtJob, n-1)}
	for i := range p.jobs {
		ch := make(chan rtJob)
		p.jobs[i] = ch
		go p.loop(ch)
	}
	return p
}

func (p *rtPool) loop(ch chan rtJob) {
	for j := range ch {
		for t := j.lo; t < j.hi; t++ {
			j.f(j.worker, t)
		}
		p.wg.Done()
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
	p.wg.Add(k - 1)
	for w := 1; w < k; w++ {
		p.jobs[w-1] <- rtJob{f: f, lo: first + w*n/k, hi: first + (w+1)*n/k, worker: w}
	}
	for t := first; t < first+n/k; t++ {
		f(0, t)
	}
	p.wg.Wait()
}

// rtStep is one layer's share of an inference: tasks [first, first+n) of
// f, for layer number layer (an index into the generated Layers table). A
// layer computed a group of images at a time has a step per group, and
// first tells its tasks which group.
type rtStep struct {
	first, n int
	f        func(worker, task int)
	layer    int
}

// close stops the workers. The pool must not be used afterwards.
func (p *rtPool) close() {
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
	p.workers = 1
}
