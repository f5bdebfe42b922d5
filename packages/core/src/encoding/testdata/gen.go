// Generates go-json-cases.json: each input decoded as Vault's Go client decodes it (json.Number) and
// as plain interface{} (float64), then re-encoded with encoding/json. Run: go run gen.go > go-json-cases.json
// The committed output is what the TypeScript test compares with; Go is not needed to run that test.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
)

type testCase struct {
	Input       string `json:"input"`
	JSONNumber  string `json:"jsonNumber"`
	Float64     string `json:"float64"`
}

func marshal(input string, useNumber bool) string {
	dec := json.NewDecoder(bytes.NewReader([]byte(input)))
	if useNumber {
		dec.UseNumber()
	}
	var value interface{}
	if err := dec.Decode(&value); err != nil {
		panic(err)
	}
	out, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return string(out)
}

func main() {
	raw, err := os.ReadFile("inputs.json")
	if err != nil {
		panic(err)
	}
	var inputs []string
	if err := json.Unmarshal(raw, &inputs); err != nil {
		panic(err)
	}
	cases := []testCase{}
	for _, input := range inputs {
		cases = append(cases, testCase{Input: input, JSONNumber: marshal(input, true), Float64: marshal(input, false)})
	}
	// SetEscapeHTML(false): the file stays readable; the test reads it with JSON.parse either way.
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]interface{}{"go": runtime.Version(), "cases": cases}); err != nil {
		panic(err)
	}
}
