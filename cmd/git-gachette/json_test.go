package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo"
)

// TestJSONNames: every --json output is a struct whose keys are
// snake_case, so that deploy tools read one naming everywhere.
func TestJSONNames(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(ty reflect.Type) {
		for ty.Kind() == reflect.Slice || ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() == "time" {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !snake.MatchString(name) {
				t.Errorf("%s.%s: JSON key %q is not snake_case", ty, f.Name, name)
			}
			check(f.Type)
		}
	}
	for _, v := range []any{
		errorJSON{}, verifyJSON{}, resultJSON{}, addJSON{}, stackJSON{}, listItemJSON{}, logEntryJSON{}, diffJSON{}, versionJSON{},
		stackrepo.FsckReport{}, value{}, prepareJSON{}, buildJSON{}, lintJSON{}, quickJSON{},
		pushJSON{}, fetchJSON{}, remote.Deb{}, deleteJSON{}, renameJSON{}, domainJSON{},
		importJSON{}, exportJSON{},
		moveJSON{}, moveEntryJSON{}, channelShowJSON{},
	} {
		check(reflect.TypeOf(v))
	}
}
