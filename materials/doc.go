// Package materials checks the images candidates upload against their
// material's checks (dialogs.MaterialChecks in the plan file) and produces a
// compliant 1-inch photo from what a candidate has.
//
// Inspector is the dialogs.Inspector the engine runs on every upload before
// it says "收到": it reads the image header first and refuses decompression
// bombs before any pixel buffer exists, then decodes the image for real
// (JPEG, PNG, WebP — never trusting the file name), and checks format, file
// size, resolution, ratio, white background and the ID card's expiry date.
// Every problem is one zh-CN sentence saying what is wrong and how to fix it.
//
// Fixer is the dialogs.PhotoFixer: centre-crop to the material's ratio,
// resample with golang.org/x/image/draw's Catmull-Rom kernel, and re-encode
// as JPEG with the quality searched so that the file lands inside the
// material's byte window; the result is checked by the same Inspector.
package materials
