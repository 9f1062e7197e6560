package postgres

// MigrateTo migrates to one version (the migration tests start from an
// older schema).
var MigrateTo = migrateTo

// WithResealPage sets how many rows Reseal reads at a time (the tests
// cross page boundaries with a few rows).
func WithResealPage(n int) Option { return func(s *Store) { s.resealPage = n } }
