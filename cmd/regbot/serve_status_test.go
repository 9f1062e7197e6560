package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// statusWeChat is the WeChat API for the status test: it records each
// candidate's customer-service messages and the images uploaded as media.
type statusWeChat struct {
	mu     sync.Mutex
	texts  map[string][]string // openid → texts
	images map[string][][]byte // openid → images, in order
	media  map[string][]byte   // media_id → bytes
}

func (f *statusWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cgi-bin/stable_token", "/cgi-bin/token":
		io.WriteString(w, `{"access_token":"FAKE_TOKEN","expires_in":7200}`)
	case "/cgi-bin/media/upload":
		file, _, err := r.FormFile("media")
		if err != nil {
			io.WriteString(w, `{"errcode":40004,"errmsg":"invalid media"}`)
			return
		}
		data, _ := io.ReadAll(file)
		id := fmt.Sprintf("media-%d", len(f.media)+1)
		f.media[id] = data
		fmt.Fprintf(w, `{"type":"image","media_id":%q,"created_at":%d}`, id, time.Now().Unix())
	case "/cgi-bin/message/custom/send":
		var msg struct {
			ToUser  string `json:"touser"`
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
			Image struct {
				MediaID string `json:"media_id"`
			} `json:"image"`
		}
		json.NewDecoder(r.Body).Decode(&msg)
		switch msg.MsgType {
		case "image":
			f.images[msg.ToUser] = append(f.images[msg.ToUser], f.media[msg.Image.MediaID])
		default:
			f.texts[msg.ToUser] = append(f.texts[msg.ToUser], msg.Text.Content)
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	default:
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}
}

func (f *statusWeChat) received(openID string) (string, [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.texts[openID], "\n"), append([][]byte(nil), f.images[openID]...)
}

// statusBotAPI is the Bot API for the status test: texts and photos by chat.
type statusBotAPI struct {
	mu     sync.Mutex
	texts  map[string][]string
	photos map[string]int
}

func (f *statusBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		r.ParseForm()
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	chat := r.FormValue("chat_id")
	switch method {
	case "sendMessage":
		f.texts[chat] = append(f.texts[chat], r.FormValue("text"))
	case "sendPhoto":
		f.photos[chat]++
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"regbot","username":"regbot_test_bot"}}`)
		return
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
		return
	}
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"private"},"text":"ok"}}`,
		time.Now().UnixNano()%1000000, time.Now().Unix(), chat)
}

func (f *statusBotAPI) received(chat string) (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.texts[chat], "\n"), f.photos[chat]
}

// seedCandidate records a C2 candidate with every material, at status, as
// the record holds them after their conversation.
func seedCandidate(t *testing.T, pg *postgres.Store, engine *dialogs.Engine, id store.Identity, mobile string, path ...store.Status) {
	t.Helper()
	s := engine.NewSession(id)
	s.Welcomed, s.Decided, s.Condition, s.ChecklistShown, s.WorkDone, s.Step = true, true, "C2", true, true, "done"
	s.Work = []store.WorkEntry{{Employer: "杭州某某电子商务有限公司", Occupation: "电子商务师", Related: true, Start: "2019-01", End: "至今"}}
	s.Answers = map[string]any{"name": "张三", "id_expiry": "长期", "mobile": mobile}
	s.Materials = map[string]dialogs.MaterialState{}
	for i, m := range []string{"id_card_front", "id_card_back", "photo", "application_form", "work_commitment"} {
		s.Materials[m] = dialogs.MaterialState{Ref: fmt.Sprintf("%064x", i+1)}
	}
	for i, st := range append([]store.Status{""}, path...) {
		if st != "" {
			s.Status = st
		}
		data, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		turn := &store.Turn{Identity: id, PlanID: s.PlanID, MsgID: fmt.Sprint("seed-", i), Inbound: "x", Session: data,
			Answers: s.Answers, WorkHistory: s.Work, Condition: "C2", Status: st, At: time.Now()}
		if err := pg.RecordTurn(context.Background(), turn); err != nil {
			t.Fatal(err)
		}
	}
}

// decodeQRCode reads the text of a QR code PNG.
func decodeQRCode(t *testing.T, data []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the QR image is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR image does not decode: %v", err)
	}
	return res.GetText()
}

// TestServeStatusImport: a running serve on PostgreSQL and Redis with fake
// WeChat and Telegram APIs; `regbot status import` moves three candidates
// through review, rejection and payment. Each hears exactly their own
// notification on their own channel, the rejected one is walked through the
// fix, the one awaiting payment gets a QR code that decodes to their payment
// link, and importing the file again sends nothing.
func TestServeStatusImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wx := &statusWeChat{texts: map[string][]string{}, images: map[string][][]byte{}, media: map[string][]byte{}}
	wxAPI := httptest.NewServer(wx)
	defer wxAPI.Close()
	tg := &statusBotAPI{texts: map[string][]string{}, photos: map[string]int{}}
	tgAPI := httptest.NewServer(tg)
	defer tgAPI.Close()

	dbURL := storetest.PostgresURL(t)
	pool, err := postgres.NewPool(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := testRecord(t, pool)
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	review := store.Identity{Channel: "wechat", UserID: "oStatusReview01"}
	rejected := store.Identity{Channel: "telegram", UserID: "5001"}
	paying := store.Identity{Channel: "wechat", UserID: "oStatusPaying01"}
	seedCandidate(t, pg, engine, review, "13900000001", store.StatusMaterialsReady)
	seedCandidate(t, pg, engine, rejected, "13900000002", store.StatusMaterialsReady, store.StatusUnderReview)
	seedCandidate(t, pg, engine, paying, "13900000003", store.StatusMaterialsReady, store.StatusUnderReview)

	_, prefix := storetest.RedisPrefix(t)
	addr := freeAddr(t)
	const secret = "regbot_webhook_secret_0123456789"
	cfg := fmt.Sprintf(`http:
  listen: %s
privacy:
  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=
database:
  url: %s
redis:
  url: %s
  prefix: %q
blob:
  dir: %s
  encryption_key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
web:
  disabled: true
wechat:
  app_id: wxregbottest0001
  app_secret: test-secret
  token: %s
  api_base: %s
telegram:
  token: "123456:TEST-token"
  mode: webhook
  webhook_secret: %s
  server_url: %s
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), wechatToken, wxAPI.URL, secret, tgAPI.URL)
	base, stderr, _ := startServe(t, addr, cfg, "/readyz")
	cfgPath := writeConfig(t, cfg) // the import runs on the same stores

	const payURL = "https://pay.example.com/order/2026-0042?sign=9f8e7d"
	csvPath := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(csvPath, []byte("手机号,状态,原因,重新提供,缴费链接\n"+
		"13900000001,审核中,,,\n"+
		"13900000002,审核不通过,手机号与身份证登记信息不一致,手机号,\n"+
		"13900000003,待缴费,,,"+payURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	importFile := func() string {
		t.Helper()
		out, err := exec.Command(regbotBin, "status", "import", "--config", cfgPath, csvPath).CombinedOutput()
		if err != nil {
			t.Fatalf("status import: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := importFile(); !strings.Contains(out, "3 rows: 3 applied") {
		t.Fatalf("import: %s", out)
	}

	// The notifications go out from the serve's outbox (the import process
	// queued them in the turns' transactions).
	waitFor := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !done(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, stderr.String())
			}
		}
	}
	waitFor("the three notifications", func() bool {
		a, _ := wx.received(review.UserID)
		b, _ := tg.received(rejected.UserID)
		_, imgs := wx.received(paying.UserID)
		return a != "" && b != "" && len(imgs) > 0
	})
	// Give a duplicate time to show up before counting.
	time.Sleep(2 * time.Second)

	reviewText, reviewImgs := wx.received(review.UserID)
	if !strings.Contains(reviewText, "审核中") || !strings.Contains(reviewText, "2 个工作日") || len(reviewImgs) != 0 ||
		strings.Count(reviewText, "【报名状态更新】") != 1 {
		t.Errorf("under review, on WeChat: %q and %d images", reviewText, len(reviewImgs))
	}
	rejText, rejPhotos := tg.received(rejected.UserID)
	for _, want := range []string{"审核不通过", "手机号与身份证登记信息不一致", "请输入您的 11 位手机号码"} {
		if !strings.Contains(rejText, want) {
			t.Errorf("rejected, on Telegram, lacks %q: %q", want, rejText)
		}
	}
	if rejPhotos != 0 || strings.Count(rejText, "【报名状态更新】") != 1 {
		t.Errorf("rejected: %d photos, %d notifications", rejPhotos, strings.Count(rejText, "【报名状态更新】"))
	}
	payText, payImgs := wx.received(paying.UserID)
	if !strings.Contains(payText, "审核已通过") || len(payImgs) != 1 {
		t.Fatalf("awaiting payment, on WeChat: %q and %d images", payText, len(payImgs))
	}
	if got := decodeQRCode(t, payImgs[0]); got != payURL {
		t.Errorf("the payment QR code reads %q, want %q", got, payURL)
	}
	for _, other := range []string{review.UserID, paying.UserID} {
		if text, _ := tg.received(other); text != "" {
			t.Errorf("a WeChat candidate's notification went to Telegram: %q", text)
		}
	}

	// The same file again changes and sends nothing.
	before := fmt.Sprint(wx.received(review.UserID))
	beforePay := fmt.Sprint(wx.received(paying.UserID))
	beforeRej := fmt.Sprint(tg.received(rejected.UserID))
	if out := importFile(); !strings.Contains(out, "0 applied") {
		t.Fatalf("second import: %s", out)
	}
	time.Sleep(12 * time.Second) // longer than a sweep of the outbox
	if fmt.Sprint(wx.received(review.UserID)) != before || fmt.Sprint(wx.received(paying.UserID)) != beforePay ||
		fmt.Sprint(tg.received(rejected.UserID)) != beforeRej {
		t.Fatal("importing the file again sent something")
	}

	// The rejected candidate fixes the mobile on Telegram and resubmits.
	post := func(updateID int, text string) {
		t.Helper()
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":5001,"type":"private"},"from":{"id":5001,"is_bot":false,"first_name":"考生"},"text":%q}}`,
			updateID, updateID, time.Now().Unix(), text)
		req, _ := http.NewRequest(http.MethodPost, base+"/telegram", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("update %d: status %d", updateID, resp.StatusCode)
		}
		runWebhookAnswer(t, tgAPI.URL, answer)
	}
	post(900001, "13912345678")
	waitFor("the answer to the fixed mobile", func() bool {
		text, _ := tg.received(rejected.UserID)
		return strings.Contains(text, "都已更新")
	})
	post(900002, "我已在官网提交")
	waitFor("the answer to 我已在官网提交", func() bool {
		text, _ := tg.received(rejected.UserID)
		return strings.Count(text, "2 个工作日") >= 1 && strings.Contains(text, "已为您记下")
	})
	app, err := pg.Application(ctx, rejected, plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if app.Status != store.StatusUnderReview || app.Answers["mobile"] != "13912345678" {
		t.Fatalf("after the fix: status %q, mobile %v", app.Status, app.Answers["mobile"])
	}

}
