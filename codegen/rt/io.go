package rt

import (
	"bytes"
	"io"
	"io/fs"
)

// rtReadAll reads r to the end like io.ReadAll, but when r can say its size
// (an *os.File of a regular file) it reads into one buffer of that size
// instead of growing one by doubling: for AlexNet's 233 MB of weights,
// doubling copied and cleared the bytes over again.
func rtReadAll(r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if s, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < 1<<40 {
			b.Grow(int(fi.Size()) + bytes.MinRead)
		}
	}
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}
