package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"gopkg.in/yaml.v3"

	"regbot/bot/wechat"
)

// runWechatMenu is `regbot wechat menu --config FILE`: it pushes the custom
// menu of the config's wechat: section to the official account.
func runWechatMenu(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wechat menu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file; its wechat: section holds the menu")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot wechat menu --config FILE", errUsage)
	}
	cfg, err := loadWechatConfig(*path, os.Getenv)
	if err != nil {
		return err
	}
	wechat.UseHTTPClient(&http.Client{Timeout: cfg.Defaults().APITimeout})
	if err := wechat.PushMenu(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "menu pushed: %d buttons\n", len(cfg.Menu))
	return nil
}

// loadWechatConfig reads the wechat: section of the config file (unknown
// keys in it refused; the other sections are not this command's business)
// and takes the secrets from the environment.
func loadWechatConfig(path string, getenv func(string) string) (wechat.Config, error) {
	var cfg wechat.Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	// The other sections are not this command's business: the inline map
	// takes them, so only the wechat: section's keys are checked.
	var doc struct {
		WeChat *wechat.Config       `yaml:"wechat"`
		Others map[string]yaml.Node `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if doc.WeChat == nil {
		return cfg, fmt.Errorf("config %s: no wechat: section", path)
	}
	cfg = *doc.WeChat
	for name, field := range map[string]*string{
		"REGBOT_WECHAT_APP_SECRET":       &cfg.AppSecret,
		"REGBOT_WECHAT_TOKEN":            &cfg.Token,
		"REGBOT_WECHAT_ENCODING_AES_KEY": &cfg.EncodingAESKey,
	} {
		if v := getenv(name); v != "" {
			*field = v
		}
	}
	return cfg, nil
}
