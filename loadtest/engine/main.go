// Command engine runs a JavaScript ES module in sobek, the JavaScript engine k6 embeds,
// with k6's module names mapped to the stand-ins in ../fake-k6/modules. It runs the
// load test harness (../fake-k6/main.js) so loadtest/sse.js and its modules are proven to
// parse and run in k6's engine, not only in Node, without k6 (AGPL) anywhere.
//
//	go run . ../fake-k6/main.js
//
// The process environment becomes __ENV, as under `k6 run`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grafana/sobek"
)

// k6Modules maps k6's module names to the stand-ins, relative to the entry's folder.
var k6Modules = map[string]string{
	"k6":           "modules/k6.js",
	"k6/http":      "modules/http.js",
	"k6/execution": "modules/execution.js",
	"k6/metrics":   "modules/metrics.js",
	"k6/x/sse":     "modules/sse.js",
}

type resolver struct {
	entryDir string
	byPath   map[string]sobek.ModuleRecord
	paths    map[sobek.ModuleRecord]string
}

func (r *resolver) resolve(referrer interface{}, specifier string) (sobek.ModuleRecord, error) {
	var path string
	if stub, ok := k6Modules[specifier]; ok {
		path = filepath.Join(r.entryDir, stub)
	} else if filepath.IsAbs(specifier) {
		path = specifier
	} else {
		base := r.entryDir
		if record, ok := referrer.(sobek.ModuleRecord); ok {
			base = filepath.Dir(r.paths[record])
		}
		path = filepath.Join(base, specifier)
	}
	if record, ok := r.byPath[path]; ok {
		return record, nil
	}
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load %q: %w", specifier, err)
	}
	record, err := sobek.ParseModule(path, string(source), r.resolve)
	if err != nil {
		return nil, err
	}
	r.byPath[path] = record
	r.paths[record] = path
	return record, nil
}

func printer(vm *sobek.Runtime, out *os.File) func(sobek.FunctionCall) sobek.Value {
	return func(call sobek.FunctionCall) sobek.Value {
		parts := make([]string, len(call.Arguments))
		for i, argument := range call.Arguments {
			parts[i] = argument.String()
		}
		fmt.Fprintln(out, strings.Join(parts, " "))
		return sobek.Undefined()
	}
}

func run(entry string) error {
	entry, err := filepath.Abs(entry)
	if err != nil {
		return err
	}
	vm := sobek.New()
	env := vm.NewObject()
	for _, pair := range os.Environ() {
		if name, value, ok := strings.Cut(pair, "="); ok {
			_ = env.Set(name, value)
		}
	}
	_ = vm.Set("__ENV", env)
	console := vm.NewObject()
	_ = console.Set("log", printer(vm, os.Stdout))
	_ = console.Set("info", printer(vm, os.Stdout))
	_ = console.Set("warn", printer(vm, os.Stderr))
	_ = console.Set("error", printer(vm, os.Stderr))
	_ = vm.Set("console", console)

	r := &resolver{entryDir: filepath.Dir(entry), byPath: map[string]sobek.ModuleRecord{}, paths: map[sobek.ModuleRecord]string{}}
	record, err := r.resolve(nil, entry)
	if err != nil {
		return err
	}
	if err := record.Link(); err != nil {
		return fmt.Errorf("linking: %w", err)
	}
	cyclic, ok := record.(sobek.CyclicModuleRecord)
	if !ok {
		return fmt.Errorf("%s is not a source text module", entry)
	}
	promise := vm.CyclicModuleRecordEvaluate(cyclic, r.resolve)
	switch promise.State() {
	case sobek.PromiseStateFulfilled:
		return nil
	case sobek.PromiseStateRejected:
		return fmt.Errorf("%v", promise.Result())
	default:
		return fmt.Errorf("the module did not finish evaluating (top-level await is not used here)")
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: engine <module.js>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
