package storetest

import (
	"encoding/json"
	"reflect"
)

// jsonEqual reports whether a and b hold the same JSON value (PostgreSQL's
// jsonb does not keep key order or spacing).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
