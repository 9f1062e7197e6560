// Package readmetest holds the fresh-clone test of the README: a clone of
// the repository (committed files only) in which every link and path the
// README and docs/ name must exist and every ```sh block of README.md runs as
// written. It has no code of its own.
package readmetest
