package payment

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var shanghai = time.FixedZone("CST", 8*3600)

// bills is a fake gateway's daily files: the transactions of each day's
// file, and the days read.
type bills struct {
	days map[string][]Transaction
	read []string // days asked for, in order
}

func (b *bills) add(id string, at time.Time, day string) {
	if b.days == nil {
		b.days = map[string][]Transaction{}
	}
	b.days[day] = append(b.days[day], Transaction{ID: id, OccurredAt: at})
}

func (b *bills) readDay(_ context.Context, day time.Time) ([]Transaction, error) {
	if h, m, s := day.Clock(); h != 0 || m != 0 || s != 0 || day.Location() != shanghai {
		return nil, errors.New("read called with " + day.String() + ", want midnight in CST")
	}
	d := day.Format("2006-01-02")
	b.read = append(b.read, d)
	return b.days[d], nil
}

// listAll pages through [from, to) and returns the ids of each page.
func listAll(t *testing.T, p DayPager, b *bills, from, to time.Time, size int) ([][]string, []string) {
	t.Helper()
	var pages [][]string
	var tokens []string
	req := ListTransactionsRequest{From: from, To: to, PageSize: size}
	for range 20 {
		page, err := p.List(context.Background(), req, b.readDay)
		if err != nil {
			t.Fatalf("List(token %q): %v", req.PageToken, err)
		}
		var ids []string
		for _, tx := range page.Transactions {
			ids = append(ids, tx.ID)
		}
		pages = append(pages, ids)
		if page.NextPageToken == "" {
			return pages, tokens
		}
		tokens = append(tokens, page.NextPageToken)
		req.PageToken = page.NextPageToken
	}
	t.Fatal("paging does not end")
	return nil, nil
}

func cst(day string, hour int) time.Time {
	t, err := time.ParseInLocation("2006-01-02", day, shanghai)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Duration(hour) * time.Hour)
}

func TestDayPagerPages(t *testing.T) {
	t.Parallel()
	b := &bills{}
	b.add("a1", cst("2026-03-01", 9), "2026-03-01")
	b.add("a2", cst("2026-03-01", 10), "2026-03-01")
	b.add("a3", cst("2026-03-01", 11), "2026-03-01")
	// 2026-03-02 has no bill.
	b.add("c1", cst("2026-03-03", 1), "2026-03-03")
	b.add("c2", cst("2026-03-03", 23), "2026-03-03") // after To: filtered out
	p := DayPager{Location: shanghai, PageSize: 100, MaxPageSize: 1000}
	pages, tokens := listAll(t, p, b, cst("2026-03-01", 0), cst("2026-03-03", 12), 2)
	want := [][]string{{"a1", "a2"}, {"a3"}, {"c1"}}
	if d := cmp.Diff(want, pages); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"2026-03-01/2", "2026-03-02/0"}, tokens); d != "" {
		t.Errorf("tokens (-want +got):\n%s", d)
	}
	// The empty day is read once and skipped: no empty page before the last.
	if d := cmp.Diff([]string{"2026-03-01", "2026-03-01", "2026-03-02", "2026-03-03"}, b.read); d != "" {
		t.Errorf("days read (-want +got):\n%s", d)
	}
}

func TestDayPagerFiltersTheRange(t *testing.T) {
	t.Parallel()
	b := &bills{}
	b.add("early", cst("2026-03-01", 8), "2026-03-01")
	b.add("in", cst("2026-03-01", 15), "2026-03-01")
	b.add("late", cst("2026-03-01", 20), "2026-03-01")
	p := DayPager{Location: shanghai, PageSize: 100, MaxPageSize: 1000}
	pages, _ := listAll(t, p, b, cst("2026-03-01", 12), cst("2026-03-01", 20), 0)
	if d := cmp.Diff([][]string{{"in"}}, pages); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}
	// To at midnight reads no day after the range.
	if d := cmp.Diff([]string{"2026-03-01"}, b.read); d != "" {
		t.Errorf("days read (-want +got):\n%s", d)
	}
}

// TestDayPagerCutoff: a gateway settling at 23:00 files what happened after
// 23:00 under the next day.
func TestDayPagerCutoff(t *testing.T) {
	t.Parallel()
	p := DayPager{Location: shanghai, Cutoff: 23 * time.Hour, PageSize: 10, MaxPageSize: 10}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{cst("2026-03-01", 0), "2026-03-01"},
		{cst("2026-03-01", 22).Add(59 * time.Minute), "2026-03-01"},
		{cst("2026-03-01", 23), "2026-03-02"},
		{cst("2026-03-01", 16).UTC(), "2026-03-01"}, // the day is China's, whatever t's zone
	} {
		if got := p.DayStart(tc.at); !got.Equal(cst(tc.want, 0)) {
			t.Errorf("DayStart(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
	b := &bills{}
	b.add("late", cst("2026-03-01", 23).Add(30*time.Minute), "2026-03-02")
	pages, _ := listAll(t, p, b, cst("2026-03-01", 23), cst("2026-03-02", 0), 0)
	if d := cmp.Diff([][]string{{"late"}}, pages); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"2026-03-02"}, b.read); d != "" {
		t.Errorf("days read (-want +got):\n%s", d)
	}
	// Without a Location days are UTC: 07:00 in China is 23:00 UTC the day before.
	if got := (DayPager{}).DayStart(cst("2026-03-01", 7)); !got.Equal(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC DayStart = %s", got)
	}
}

func TestDayPagerRefuses(t *testing.T) {
	t.Parallel()
	p := DayPager{Location: shanghai, PageSize: 10, MaxPageSize: 10}
	from, to := cst("2026-03-01", 0), cst("2026-03-03", 0)
	for _, token := range []string{"1999-01-01/0", "2026-03-03/0", "2026-03-01/-1", "2026-03-01", "x/1", "2026-03-01/x"} {
		b := &bills{}
		_, err := p.List(context.Background(), ListTransactionsRequest{From: from, To: to, PageToken: token}, b.readDay)
		if !errors.Is(err, ErrBadPageToken) {
			t.Errorf("token %q: err %v, want ErrBadPageToken", token, err)
		}
		if len(b.read) != 0 {
			t.Errorf("token %q: read %v", token, b.read)
		}
	}
	// An empty or reversed range lists nothing and reads nothing.
	b := &bills{}
	for _, r := range [][2]time.Time{{from, from}, {to, from}} {
		page, err := p.List(context.Background(), ListTransactionsRequest{From: r[0], To: r[1]}, b.readDay)
		if err != nil || len(page.Transactions) != 0 || page.NextPageToken != "" || len(b.read) != 0 {
			t.Errorf("range %v: %+v %v, read %v", r, page, err, b.read)
		}
	}
	// A failed read is the answer.
	boom := errors.New("bill download failed")
	_, err := p.List(context.Background(), ListTransactionsRequest{From: from, To: to},
		func(context.Context, time.Time) ([]Transaction, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("read error: got %v", err)
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	for size, want := range map[int]int{0: 200, -1: 200, 1: 1, 1000: 1000, 1001: 200} {
		if got := (ListTransactionsRequest{PageSize: size}).Limit(200, 1000); got != want {
			t.Errorf("Limit with PageSize %d = %d, want %d", size, got, want)
		}
	}
}
