package postgres

// MigrateTo migrates to one version (the migration tests start from an
// older schema).
var MigrateTo = migrateTo
