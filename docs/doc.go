// Package docs holds cnnc's documentation as Markdown: design.md (how the
// compiler works), spec.md (the spec language), api.md (the generated
// package's API). The package has no code; its tests keep the documents
// true:
//
//   - every ```go block of api.md compiles against generated/alexnet (or,
//     marked "go embed", against a package compiled with -embed), and
//     blocks marked with a file name ("go generated/alexnet/model.go")
//     appear in that file verbatim;
//   - every exported identifier of generated/alexnet is named in api.md,
//     and every alexnet.X and Model.X that api.md names exists;
//   - every `cnnc ...` command in a ```sh block runs (against spec/, in a
//     scratch directory) and exits 0, and a ```text block right after a
//     one-command ```sh block is that command's output ("..." lines stand
//     for any lines). Commands too slow for go test are skipped by name.
package docs
