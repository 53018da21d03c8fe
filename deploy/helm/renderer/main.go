// veil-helm-render: an offline stand-in for `helm template`, built from Debian's Go packages (text/template, sprig,
// yaml, gojsonschema) because neither a helm binary nor a Go module proxy is available where Veil's tests run.
// It implements only what deploy/helm/veil uses: Go templates with sprig (minus env/expandenv, as helm), include,
// required, tpl, toYaml, fromYaml, toJson; .Values (chart defaults, then -f files, then --set, merged as helm merges
// maps), .Release, .Chart, .Template, .Capabilities.APIVersions.Has (always false: no cluster); values.schema.json
// validation as helm 3 does it (gojsonschema); "# Source:" headers and "---" separators as `helm template` prints.
// The gaps to real helm are listed in deploy/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	yamlv2 "gopkg.in/yaml.v2"
	yaml "gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles, sets multiFlag
	release := flag.String("release-name", "veil", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	flag.Var(&valueFiles, "f", "values file layered over the chart's values.yaml (repeatable)")
	flag.Var(&sets, "set", "key.path=value layered over the values files; value parsed as a YAML scalar (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: veil-helm-render [-f values.yaml]... [--set a.b=c]... [--release-name N] [--namespace NS] CHART_DIR")
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), valueFiles, sets, *release, *namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

// readYAML parses YAML and normalises it through JSON, as helm does (sigs.k8s.io/yaml): maps have string keys and
// every number is a float64, so the chart sees exactly the types it would under helm.
func readYAML(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var out map[string]interface{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, fmt.Errorf("top level must be a map: %v", err)
	}
	return out, nil
}

// mergeValues layers src over dst the way helm coalesces user values onto chart defaults: maps merge key by key,
// anything else (lists included) replaces; a null removes the key.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func setValue(values map[string]interface{}, assignment string) error {
	eq := strings.Index(assignment, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want key.path=value", assignment)
	}
	parsed, err := readYAML([]byte("v: " + assignment[eq+1:]))
	if err != nil {
		return fmt.Errorf("--set %q: %v", assignment, err)
	}
	parts := strings.Split(assignment[:eq], ".")
	node := values
	for _, p := range parts[:len(parts)-1] {
		next, ok := node[p].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			node[p] = next
		}
		node = next
	}
	node[parts[len(parts)-1]] = parsed["v"]
	return nil
}

func validateSchema(chartDir string, values map[string]interface{}) error {
	schema, err := ioutil.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if !result.Valid() {
		msgs := []string{}
		for _, e := range result.Errors() {
			msgs = append(msgs, "- "+e.String())
		}
		return fmt.Errorf("values don't meet the specifications of the schema(s):\n%s", strings.Join(msgs, "\n"))
	}
	return nil
}

func toYAML(v interface{}) string {
	data, err := yamlv2.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func render(chartDir string, valueFiles, sets []string, releaseName, namespace string) (string, error) {
	chartYAML, err := ioutil.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	chartMeta, err := readYAML(chartYAML)
	if err != nil {
		return "", fmt.Errorf("Chart.yaml: %v", err)
	}
	chartName, _ := chartMeta["name"].(string)
	// helm exposes Chart.yaml fields capitalised (.Chart.Name, .Chart.AppVersion).
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}

	values := map[string]interface{}{}
	if data, err := ioutil.ReadFile(filepath.Join(chartDir, "values.yaml")); err == nil {
		if values, err = readYAML(data); err != nil {
			return "", fmt.Errorf("values.yaml: %v", err)
		}
	}
	for _, f := range valueFiles {
		data, err := ioutil.ReadFile(f)
		if err != nil {
			return "", err
		}
		layer, err := readYAML(data)
		if err != nil {
			return "", fmt.Errorf("%s: %v", f, err)
		}
		values = mergeValues(values, layer)
	}
	for _, s := range sets {
		if err := setValue(values, s); err != nil {
			return "", err
		}
	}
	if err := validateSchema(chartDir, values); err != nil {
		return "", err
	}

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	root := template.New("")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 100 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Option("missingkey=zero").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return strings.ReplaceAll(buf.String(), "<no value>", ""), err
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m, err := readYAML([]byte(s))
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	root.Funcs(funcs).Option("missingkey=zero")

	names := []string{}
	for _, file := range files {
		base := filepath.Base(file)
		if !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".tpl") || strings.HasSuffix(base, ".txt")) {
			continue
		}
		data, err := ioutil.ReadFile(file)
		if err != nil {
			return "", err
		}
		name := chartName + "/templates/" + base
		if _, err := root.New(name).Parse(string(data)); err != nil {
			return "", err
		}
		// Partials (leading underscore) and NOTES.txt define templates but are not manifests.
		if !strings.HasPrefix(base, "_") && strings.HasSuffix(base, ".yaml") {
			names = append(names, name)
		}
	}

	var out strings.Builder
	for _, name := range names {
		top := map[string]interface{}{
			"Values":  values,
			"Chart":   chart,
			"Release": map[string]interface{}{"Name": releaseName, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
			"Template": map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"},
			"Capabilities": map[string]interface{}{"APIVersions": apiVersions{}},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, top); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for _, doc := range strings.Split(text, "\n---") {
			doc = strings.TrimPrefix(doc, "---")
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.Trim(doc, "\n"))
		}
	}
	return out.String(), nil
}

// apiVersions answers .Capabilities.APIVersions.Has: offline there is no cluster to ask, so nothing optional exists.
type apiVersions struct{}

func (apiVersions) Has(string) bool { return false }
