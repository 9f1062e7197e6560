package storetest

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// The servers the tests use: PostgreSQL and Redis are required (a test
// fails, it does not skip, when they are down). The environment variables
// point the tests elsewhere.
var (
	// DatabaseURL is the PostgreSQL database tests make their schemas in
	// (REGBOT_TEST_DATABASE_URL).
	DatabaseURL = cmp.Or(os.Getenv("REGBOT_TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	// RedisURL is the Redis tests use (REGBOT_TEST_REDIS_URL).
	RedisURL = cmp.Or(os.Getenv("REGBOT_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	// RedisClusterAddrs are the nodes of the Redis Cluster the scale-out
	// tests use (REGBOT_TEST_REDIS_CLUSTER, comma-separated); .ci/run
	// starts it with .ci/redis-cluster.sh.
	RedisClusterAddrs = strings.Split(cmp.Or(os.Getenv("REGBOT_TEST_REDIS_CLUSTER"), "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"), ",")
)

// RedisClusterPrefix is RedisPrefix on the test Redis Cluster: a client of
// the cluster and a key prefix of the test's own, whose keys are deleted
// when the test ends. The cluster is required: the test fails without it.
func RedisClusterPrefix(t testing.TB) (goredis.UniversalClient, string) {
	t.Helper()
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: RedisClusterAddrs})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.ForEachShard(ctx, func(ctx context.Context, c *goredis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		rdb.Close()
		t.Fatalf("the Redis Cluster is required for this test (%s; start it with .ci/redis-cluster.sh): %v",
			strings.Join(RedisClusterAddrs, ","), err)
	}
	prefix := "regbot-test:" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		defer rdb.Close()
		if err := DeleteKeys(context.Background(), rdb, prefix); err != nil {
			t.Errorf("delete test keys %s*: %v", prefix, err)
		}
	})
	return rdb, prefix
}

// PostgresURL creates an empty schema of its own for the test and returns a
// connection URL whose search_path is that schema; the schema and all in it
// are dropped when the test ends. Apply the migrations yourself.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, DatabaseURL)
	if err != nil {
		t.Fatalf("PostgreSQL is required for this test (%s): %v", redact(DatabaseURL), err)
	}
	defer conn.Close(ctx)
	schema := "regbot_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "create schema "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, DatabaseURL)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "drop schema "+pgx.Identifier{schema}.Sanitize()+" cascade"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisPrefix returns a key prefix of the test's own on the test Redis, and a
// client for it; every key under the prefix is deleted when the test ends.
func RedisPrefix(t testing.TB) (goredis.UniversalClient, string) {
	t.Helper()
	opts, err := goredis.ParseURL(RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		t.Fatalf("Redis is required for this test (%s): %v", redact(RedisURL), err)
	}
	prefix := "regbot-test:" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		defer rdb.Close()
		if err := DeleteKeys(context.Background(), rdb, prefix); err != nil {
			t.Errorf("delete test keys %s*: %v", prefix, err)
		}
	})
	return rdb, prefix
}

// DeleteKeys deletes every key under prefix (SCAN, then DEL), as a Redis
// flush would for one deployment. Recovery tests use it.
func DeleteKeys(ctx context.Context, rdb goredis.UniversalClient, prefix string) error {
	if c, ok := rdb.(*goredis.ClusterClient); ok {
		// SCAN sees one node's keys: delete on every master.
		return c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return DeleteKeys(ctx, node, prefix)
		})
	}
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan %s*: %w", prefix, err)
	}
	// One UNLINK per key in a pipeline: keys of several Cluster slots cannot
	// share one command.
	for len(keys) > 0 {
		n := min(len(keys), 500)
		_, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys[:n] {
				p.Unlink(ctx, k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete %s*: %w", prefix, err)
		}
		keys = keys[n:]
	}
	return nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
