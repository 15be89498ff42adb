package transition_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/transition"
)

type status string

const (
	statusNew       status = "NEW"
	statusPaid      status = "PAID"
	statusCancelled status = "CANCELLED"
	statusShipped   status = "SHIPPED"
	statusRefunded  status = "REFUNDED"
)

var allStatuses = []status{statusNew, statusPaid, statusCancelled, statusShipped, statusRefunded}

const (
	widget       authz.Object = "widget"
	refundAction authz.Action = "refund"
)

// widgets is the machine under test: one move per kind of Who.
var widgets = transition.New[status]("widget.status").
	Allow(statusNew, statusPaid, transition.System, transition.ReasonOptional, "kassa.widget.paid").
	Allow(statusNew, statusCancelled, transition.Kinds(authz.KindStaff, authz.KindSystem), transition.ReasonRequired, "kassa.widget.cancelled").
	Allow(statusPaid, statusShipped, transition.Kinds(authz.KindStaff), transition.ReasonOptional, "kassa.widget.shipped").
	Allow(statusPaid, statusRefunded, transition.Permission(widget, refundAction), transition.ReasonRequired, "kassa.widget.refunded")

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to status
		ok       bool
	}{
		{"allowed by system", statusNew, statusPaid, true},
		{"allowed with reason", statusNew, statusCancelled, true},
		{"allowed by permission", statusPaid, statusRefunded, true},
		{"allowed second step", statusPaid, statusShipped, true},
		{"backwards", statusPaid, statusNew, false},
		{"skips a step", statusNew, statusShipped, false},
		{"from a final state", statusCancelled, statusPaid, false},
		{"to the same state", statusPaid, statusPaid, false},
		{"unknown from", "LOST", statusPaid, false},
		{"unknown to", statusNew, "LOST", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := widgets.Check(tt.from, tt.to)
			if tt.ok {
				if err != nil {
					t.Fatalf("Check(%s, %s) = %v, want nil", tt.from, tt.to, err)
				}
				return
			}
			var te *transition.Error
			if !errors.As(err, &te) {
				t.Fatalf("Check(%s, %s) = %v, want a *transition.Error", tt.from, tt.to, err)
			}
			if te.Code() != transition.CodeInvalidTransition || te.From != string(tt.from) || te.To != string(tt.to) || te.Machine != "widget.status" {
				t.Fatalf("error = %+v (code %s), want INVALID_TRANSITION naming %s -> %s", te, te.Code(), tt.from, tt.to)
			}
			if !errors.Is(err, errs.ErrConflict) || !transition.IsInvalid(err) || transition.IsStale(err) {
				t.Fatalf("%v does not classify as an invalid transition conflict", err)
			}
			if all := errs.All(err); len(all) != 1 || all[0].Code != transition.CodeInvalidTransition {
				t.Fatalf("errs.All = %+v", all)
			}
			if !strings.Contains(err.Error(), string(tt.from)) || !strings.Contains(err.Error(), string(tt.to)) {
				t.Fatalf("message %q does not name both states", err)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff([]status{statusPaid, statusCancelled}, widgets.Next(statusNew)); diff != "" {
		t.Fatalf("Next(NEW) (-want +got):\n%s", diff)
	}
	if got := widgets.Next(statusRefunded); len(got) != 0 {
		t.Fatalf("Next(REFUNDED) = %v, want none", got)
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	want := "| from | to | who may | reason | event |\n" +
		"| --- | --- | --- | --- | --- |\n" +
		"| NEW | PAID | system | optional | `kassa.widget.paid` |\n" +
		"| NEW | CANCELLED | staff, system | required | `kassa.widget.cancelled` |\n" +
		"| PAID | SHIPPED | staff | optional | `kassa.widget.shipped` |\n" +
		"| PAID | REFUNDED | widget:refund | required | `kassa.widget.refunded` |\n"
	if diff := cmp.Diff(want, widgets.Markdown()); diff != "" {
		t.Fatalf("Markdown (-want +got):\n%s", diff)
	}
	both := transition.New[status]("x.y").Allow("A", "B", transition.Who{Object: widget, Action: authz.Write, Kinds: []authz.SubjectKind{authz.KindStaff}}, transition.ReasonOptional, "kassa.x.b")
	if got := both.Markdown(); !strings.Contains(got, "| A | B | widget:write (staff) | optional |") {
		t.Fatalf("Markdown of a permission limited to a kind:\n%s", got)
	}
}

// TestAllowRefusesBadRules: a table is code, so a mistake in it panics
// when the package loads rather than surfacing at the first order.
func TestAllowRefusesBadRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		add  func(*transition.Table[status])
	}{
		{"empty from", func(tb *transition.Table[status]) {
			tb.Allow("", statusPaid, transition.System, transition.ReasonOptional, "kassa.w.paid")
		}},
		{"same state", func(tb *transition.Table[status]) {
			tb.Allow(statusPaid, statusPaid, transition.System, transition.ReasonOptional, "kassa.w.paid")
		}},
		{"nobody", func(tb *transition.Table[status]) {
			tb.Allow(statusNew, statusPaid, transition.Who{}, transition.ReasonOptional, "kassa.w.paid")
		}},
		{"half a permission", func(tb *transition.Table[status]) {
			tb.Allow(statusNew, statusPaid, transition.Who{Object: widget}, transition.ReasonOptional, "kassa.w.paid")
		}},
		{"bad subject", func(tb *transition.Table[status]) {
			tb.Allow(statusNew, statusPaid, transition.System, transition.ReasonOptional, "order.paid")
		}},
		{"twice", func(tb *transition.Table[status]) {
			tb.Allow(statusNew, statusPaid, transition.System, transition.ReasonOptional, "kassa.w.paid").
				Allow(statusNew, statusPaid, transition.System, transition.ReasonRequired, "kassa.w.paid")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Fatal("Allow accepted a bad rule")
				}
			}()
			tt.add(transition.New[status]("w.status"))
		})
	}
	t.Run("bad name", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Fatal("New accepted a bad machine name")
			}
		}()
		transition.New[status]("Order Status")
	})
}
