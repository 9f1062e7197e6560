package blob_test

import (
	"context"
	"fmt"
	"os"

	"regbot/store/blob"
)

// A sensitive upload is encrypted on disk and read back as it was sent.
func Example() {
	root, _ := os.MkdirTemp("", "blobs")
	defer os.RemoveAll(root)
	key := make([]byte, blob.KeySize) // from config in real use
	dir, err := blob.NewDir(root, key)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	ref, _ := dir.Put(ctx, []byte("photo bytes"), true)
	data, _ := dir.Get(ctx, ref)
	fmt.Println(ref[:12], string(data))
	// Output: bfcc0db53a8b photo bytes
}
