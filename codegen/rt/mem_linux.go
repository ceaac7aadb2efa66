package rt

import (
	"runtime"
	"sync"
	"syscall"
)

// rtMap maps size bytes of zeroed anonymous memory and a huge page more
// (for rtAligned), and asks for transparent huge pages before anything
// touches it, so that the first writes fault whole 2 MiB pages in. It
// returns nil if the mapping fails; where transparent huge pages are off
// (or none are free) the memory is an ordinary mapping.
func rtMap(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size+rtHugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	a := rtAligned(b, size)
	// Advice only: an error leaves ordinary pages.
	_ = syscall.Madvise(a, syscall.MADV_HUGEPAGE)
	rtPopulate(a)
	return b
}

// rtMadvPopulateWrite is Linux's MADV_POPULATE_WRITE (5.14 and later),
// which syscall does not define.
const rtMadvPopulateWrite = 23

// rtPopulate faults a's pages in on up to GOMAXPROCS goroutines, a run
// of huge pages each (MADV_POPULATE_WRITE; older kernels refuse it, and
// the first writes fault the pages in instead). Faulting in a huge page
// means zeroing 2 MiB, and in a virtual machine the host may have to back
// it too: spread over the cores, loading AlexNet's 245 MB takes
// measurably less time.
func rtPopulate(a []byte) {
	pages := (len(a) + rtHugePage - 1) / rtHugePage
	n := min(runtime.GOMAXPROCS(0), pages)
	var wg sync.WaitGroup
	for i := range n {
		lo, hi := i*pages/n*rtHugePage, min((i+1)*pages/n*rtHugePage, len(a))
		wg.Go(func() { _ = syscall.Madvise(a[lo:hi], rtMadvPopulateWrite) })
	}
	wg.Wait()
}

// rtUnmap unmaps a mapping of rtMap's.
func rtUnmap(b []byte) { _ = syscall.Munmap(b) }
