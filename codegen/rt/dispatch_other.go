//go:build (!amd64 && !arm64) || purego

package rt

// available lists the implementations this build can run, fastest first.
func available() []int {
	return []int{rtImplGo}
}

// plan lists the steps of one inference: the pure-Go ones.
func (m *Model) plan() []rtStep {
	return m.planGo()
}
