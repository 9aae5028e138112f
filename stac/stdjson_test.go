package stac

import "encoding/json"

// stdUnmarshal is encoding/json's Unmarshal, for the tests that check the
// types decode the same with it.
func stdUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
