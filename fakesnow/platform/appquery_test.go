package platform

import (
	"strconv"
	"sync"
	"testing"

	"github.com/m365snow/m365snow/fakesnow/encodedquery"
)

// TestInsertUnlessIsOneLockSection: many concurrent InsertUnless and
// Upsert calls for the same key leave exactly one record each (the
// primitives behind the fix of issue 11, defect 8).
func TestInsertUnlessIsOneLockSection(t *testing.T) {
	e := newEnv(t)
	if err := e.inst.DefineTable(&Table{Name: "u_saved", Fields: []*Field{{Name: "key"}, {Name: "n"}}}); err != nil {
		t.Fatal(err)
	}
	ctx, err := e.inst.App(GlobalScope, e.inst.System())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	inserted := make(chan bool, 64)
	for k := range 64 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, ok, err := ctx.InsertUnless("u_saved", encodedquery.Equals("key", "once"), map[string]string{"key": "once"}, true)
			if err != nil {
				t.Error(err)
			}
			inserted <- ok
		}()
		go func() {
			defer wg.Done()
			if _, err := ctx.Upsert("u_saved", encodedquery.Equals("key", "upserted"), map[string]string{"key": "upserted", "n": string(rune('a' + k%26))}, true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(inserted)
	n := 0
	for ok := range inserted {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("InsertUnless reported %d inserts", n)
	}
	for _, key := range []string{"once", "upserted"} {
		if rows, _ := e.inst.Query("u_saved", "key="+key); len(rows) != 1 {
			t.Errorf("%s: %d records", key, len(rows))
		}
	}
}

// TestModifyIsOneLockSection: concurrent increments through Modify lose
// none (the primitive behind the app's settings writes).
func TestModifyIsOneLockSection(t *testing.T) {
	e := newEnv(t)
	if err := e.inst.DefineTable(&Table{Name: "u_counter", Fields: []*Field{{Name: "n", Type: TypeInteger, Default: "0"}}}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.inst.Insert("u_counter", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := e.inst.App(GlobalScope, e.inst.System())
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ctx.Modify("u_counter", rec["sys_id"], func(cur Record) map[string]string {
				n, _ := strconv.Atoi(cur["n"])
				return map[string]string{"n": strconv.Itoa(n + 1)}
			}, true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := e.inst.Get("u_counter", rec["sys_id"]); got["n"] != "64" {
		t.Errorf("n = %s after 64 increments", got["n"])
	}
}
