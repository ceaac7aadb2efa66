package rt

import "syscall"

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
	// Advice only: an error leaves ordinary pages.
	_ = syscall.Madvise(rtAligned(b, size), syscall.MADV_HUGEPAGE)
	return b
}

// rtUnmap unmaps a mapping of rtMap's.
func rtUnmap(b []byte) { _ = syscall.Munmap(b) }
