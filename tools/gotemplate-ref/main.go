// gotemplate-ref renders Go text/template cases with the real Go engine, so the TypeScript engine in
// packages/core/src/gotemplate can be compared with it byte for byte. It reads one JSON case per line
// on stdin and writes one JSON result per line on stdout (batch mode: one process for a whole corpus).
//
// A case: {"name", "template", "data" (JSON text), "funcs" ("none"|"sprig"|"vso"),
// "missingkey" ("default"|"zero"|"error"|""), "delims" ([left, right] or absent),
// "numbers" ("float64"|"json.Number"), "templates" (more {"name","text"} parsed into the same set)}.
// A result: {"output"} or {"error", "phase" ("data"|"parse"|"exec")}.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type namedText struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type testCase struct {
	Name       string      `json:"name"`
	Template   string      `json:"template"`
	Data       string      `json:"data"`
	Funcs      string      `json:"funcs"`
	MissingKey string      `json:"missingkey"`
	Delims     []string    `json:"delims"`
	Numbers    string      `json:"numbers"`
	Templates  []namedText `json:"templates"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  string  `json:"error,omitempty"`
	Phase  string  `json:"phase,omitempty"`
}

// vsoAllowed is the Vault Secrets Operator's documented allowlist over sprig's hermetic functions.
var vsoAllowed = []string{
	"abbrev", "abbrevboth", "add", "add1", "add1f", "addf", "adler32sum", "ago", "all", "any", "append", "atoi",
	"b32dec", "b32enc", "b64dec", "b64enc", "base", "bcrypt", "biggest", "buildCustomCert", "camelcase", "cat",
	"ceil", "chunk", "clean", "coalesce", "compact", "concat", "contains", "deepCopy", "deepEqual", "default",
	"dict", "dig", "dir", "div", "divf", "duration", "durationRound", "empty", "ext", "fail", "first", "float64",
	"floor", "fromJson", "get", "has", "hasKey", "hasPrefix", "hasSuffix", "htpasswd", "indent", "initial",
	"initials", "int", "int64", "isAbs", "join", "kebabcase", "keys", "kindIs", "kindOf", "last", "list", "lower",
	"max", "maxf", "merge", "mergeOverwrite", "min", "minf", "mod", "mul", "mulf", "mustAppend", "mustChunk",
	"mustCompact", "mustDeepCopy", "mustFirst", "mustFromJson", "mustHas", "mustInitial", "mustLast", "mustMerge",
	"mustMergeOverwrite", "mustPrepend", "mustPush", "mustRegexFind", "mustRegexFindAll", "mustRegexMatch",
	"mustRegexReplaceAll", "mustRegexReplaceAllLiteral", "mustRegexSplit", "mustRest", "mustReverse", "mustSlice",
	"mustToDate", "mustToJson", "mustToPrettyJson", "mustToRawJson", "mustUniq", "mustWithout", "nindent",
	"nospace", "omit", "osBase", "osClean", "osDir", "osExt", "osIsAbs", "pick", "pluck", "plural", "prepend",
	"push", "quote", "randInt", "regexFind", "regexFindAll", "regexMatch", "regexQuoteMeta", "regexReplaceAll",
	"regexReplaceAllLiteral", "regexSplit", "repeat", "replace", "rest", "reverse", "round", "semver",
	"semverCompare", "seq", "set", "sha1sum", "sha256sum", "sha512sum", "shuffle", "slice", "snakecase",
	"sortAlpha", "split", "splitList", "splitn", "squote", "sub", "subf", "substr", "swapcase", "ternary", "title",
	"toDecimal", "toJson", "toPrettyJson", "toRawJson", "toString", "toStrings", "trim", "trimAll", "trimPrefix",
	"trimSuffix", "trimall", "trunc", "tuple", "typeIs", "typeIsLike", "typeOf", "uniq", "unset", "until",
	"untilStep", "untitle", "upper", "urlJoin", "urlParse", "values", "without", "wrap", "wrapWith",
}

func funcMap(set string) (template.FuncMap, error) {
	switch set {
	case "", "none":
		return template.FuncMap{}, nil
	case "sprig":
		return sprig.TxtFuncMap(), nil
	case "vso":
		hermetic := sprig.HermeticTxtFuncMap()
		m := template.FuncMap{}
		for _, name := range vsoAllowed {
			if f, ok := hermetic[name]; ok {
				m[name] = f
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown function set %q", set)
}

func decodeData(c testCase) (any, error) {
	if c.Data == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(c.Data)))
	if c.Numbers == "json.Number" {
		dec.UseNumber()
	}
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	return data, nil
}

func render(c testCase) (res result) {
	fail := func(phase string, err error) result { return result{Error: err.Error(), Phase: phase} }
	// A panic inside a function is recovered by text/template; this guards the rest.
	defer func() {
		if r := recover(); r != nil {
			res = result{Error: fmt.Sprint(r), Phase: "panic"}
		}
	}()
	data, err := decodeData(c)
	if err != nil {
		return fail("data", err)
	}
	funcs, err := funcMap(c.Funcs)
	if err != nil {
		return fail("data", err)
	}
	name := c.Name
	if name == "" {
		name = "t"
	}
	t := template.New(name).Funcs(funcs)
	if len(c.Delims) == 2 {
		t.Delims(c.Delims[0], c.Delims[1])
	}
	if c.MissingKey != "" {
		t.Option("missingkey=" + c.MissingKey)
	}
	for _, more := range c.Templates {
		if _, err := t.New(more.Name).Parse(more.Text); err != nil {
			return fail("parse", err)
		}
	}
	if _, err := t.Parse(c.Template); err != nil {
		return fail("parse", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return fail("exec", err)
	}
	s := out.String()
	return result{Output: &s}
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var c testCase
			var res result
			if jerr := json.Unmarshal(line, &c); jerr != nil {
				res = result{Error: "bad case: " + jerr.Error(), Phase: "input"}
			} else {
				res = render(c)
			}
			if eerr := enc.Encode(res); eerr != nil {
				fmt.Fprintln(os.Stderr, eerr)
				os.Exit(2)
			}
		}
		if err != nil {
			break
		}
	}
}
