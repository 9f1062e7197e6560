package store

import (
	"encoding/hex"
	"math/bits"
)

// ImageHash is a perceptual hash of an uploaded picture, as 128 hex digits
// (512 bits), computed by materials.PerceptualHash when an upload is
// checked and recorded with its Document. Unlike the SHA-256 of the bytes
// it survives re-encoding, resizing and the recompression chat apps apply,
// so two uploads of the same picture are a few bits apart while different
// pictures differ in about half of them. Empty when the upload could not
// be decoded.
type ImageHash string

// NearBits is the largest number of differing bits at which two hashes
// show the same picture (5 % of them: materials' tests measure re-encoded,
// resized and EXIF-rotated copies at 0–3 bits, two different forms
// photographed on the same desk at about 100, different portraits at about 90).
const NearBits = 26

// Distance returns how many bits h and o differ in, or -1 when either is
// empty or not a well-formed hash.
func (h ImageHash) Distance(o ImageHash) int {
	a, err1 := hex.DecodeString(string(h))
	b, err2 := hex.DecodeString(string(o))
	if err1 != nil || err2 != nil || len(a) != 64 || len(b) != 64 {
		return -1
	}
	n := 0
	for i := range a {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return n
}

// Near reports whether h and o are hashes of the same or a nearly
// identical picture. Empty or malformed hashes are never near anything.
func (h ImageHash) Near(o ImageHash) bool {
	d := h.Distance(o)
	return d >= 0 && d <= NearBits
}
