// Package fxcheck checks an fx constructor's type before fx sees it, so a
// wrong one fails with the signature it needs (ScheduleWith, DrainWith)
// rather than fx's chain of missing types.
package fxcheck

import (
	"fmt"
	"reflect"
)

// Constructor reports why constructor is not an fx constructor of want: a
// func returning want, or want and an error.
func Constructor(constructor any, want reflect.Type) error {
	t := reflect.TypeOf(constructor)
	sig := fmt.Sprintf("func(deps...) %[1]s or func(deps...) (%[1]s, error)", want)
	if t == nil || t.Kind() != reflect.Func {
		return fmt.Errorf("constructor is %T, want a %s", constructor, sig)
	}
	if reflect.ValueOf(constructor).IsNil() {
		return fmt.Errorf("constructor is a nil %s, want a %s", t, sig)
	}
	errType := reflect.TypeFor[error]()
	switch {
	case t.NumOut() == 1 && t.Out(0) == want:
	case t.NumOut() == 2 && t.Out(0) == want && t.Out(1) == errType:
	default:
		return fmt.Errorf("constructor is a %s, want a %s", t, sig)
	}
	return nil
}
