package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store/blob"
	"regbot/store/memory"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestExportMaterials records a conversation in a real PostgreSQL schema and
// an encrypted blob directory, then runs `regbot export materials` as a
// subprocess, by channel identity and by the record's candidate id.
func TestExportMaterials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.PostgresURL(t)
	pool, err := postgres.NewPool(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, blob.KeySize)
	rand.Read(key)
	blobDir := t.TempDir()
	blobs, err := blob.NewDir(blobDir, key)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Blobs: blobs, Inspector: materials.NewInspector(plan.Texts)})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: testRecord(t, pool)}, slog.New(slog.DiscardHandler))
	card := cardJPEG(t)
	for i, in := range []dialogs.Inbound{
		{Text: "是"}, {Text: "杭州某某电子商务有限公司"}, {Text: "电子商务师"}, {Text: "2020-03"}, {Text: "至今"}, {Text: "否"},
		{Text: "李四"}, {Text: "11010519491231002X"}, {Text: "长期"}, {Text: "13900139000"},
		{Image: &dialogs.Image{Data: card}},
	} {
		in.Channel, in.UserID, in.MsgID = "wechat", "o-export-1", "m"+strconv.Itoa(i)
		if _, err := router.Handle(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var candidateID int64
	if err := pool.QueryRow(ctx, "select candidate_id from identities where channel = 'wechat' and user_id = 'o-export-1'").Scan(&candidateID); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: " + dbURL + "\nblob:\n  dir: " + blobDir + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, candidate := range []string{"wechat:o-export-1", strconv.FormatInt(candidateID, 10)} {
		out := filepath.Join(dir, "pkg-"+strings.ReplaceAll(candidate, ":", "_")+".zip")
		cmd := exec.Command(regbotBin, "export", "materials", "--config", cfgPath, "--candidate", candidate, "--out", out)
		cmd.Env = append(os.Environ(), "REGBOT_BLOB_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(key))
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("export --candidate %s: %v\n%s", candidate, err, msg)
		}
		files := unzip(t, out)
		if !bytes.Equal(files["身份证人像面.jpg"], card) {
			t.Errorf("--candidate %s: 身份证人像面.jpg is not the uploaded bytes (files %v)", candidate, keysOf(files))
		}
		if s := string(files["报名信息.txt"]); !strings.Contains(s, "李四") || !strings.Contains(s, "C2") {
			t.Errorf("--candidate %s: summary:\n%s", candidate, s)
		}
	}
	// Wrong key: the encrypted ID card cannot be read, and the command says so.
	cmd := exec.Command(regbotBin, "export", "materials", "--config", cfgPath, "--candidate", "wechat:o-export-1", "--out", filepath.Join(dir, "x.zip"))
	other := make([]byte, blob.KeySize)
	rand.Read(other)
	cmd.Env = append(os.Environ(), "REGBOT_BLOB_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(other))
	if msg, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(msg), "key") {
		t.Fatalf("export with the wrong key: err %v, output %s", err, msg)
	}
}

func cardJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1000, 630))
	for y := 0; y < 630; y++ {
		for x := 0; x < 1000; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
