package store

import "context"

// Touch records in the transaction carried by ctx that it changed the
// data key names (a comparable value of the caller's own type), and does
// nothing outside a transaction. A cache of that data asks Touched before
// it keeps what it read in the same transaction: such a read may hold a
// change that never commits.
func Touch(ctx context.Context, key any) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		if st.touched == nil {
			st.touched = map[any]bool{}
		}
		st.touched[key] = true
	}
}

// Touched reports whether the transaction carried by ctx changed the data
// key names (Touch).
func Touched(ctx context.Context, key any) bool {
	st, ok := ctx.Value(txKey{}).(*txState)
	return ok && st.touched[key]
}
