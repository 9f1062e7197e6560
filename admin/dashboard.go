package admin

import (
	"fmt"
	"net/http"
	"strconv"

	"regbot/dialogs"
	"regbot/store"
)

// The dashboard: applications by status and by condition, the tickets
// waiting and the longest wait, the funnel from collecting to the
// admission ticket, and new applications per day — as small SVG charts
// rendered on the server (people read these as pictures, not tables).

// dashboardDays is how many days the registrations chart shows.
const dashboardDays = 30

// funnelSteps are the statuses an application passes on its way.
var funnelSteps = []store.Status{
	store.StatusCollecting, store.StatusMaterialsReady, store.StatusUnderReview,
	store.StatusAwaitingPayment, store.StatusPaid, store.StatusTicketReady,
}

// dashboardData fills the dashboard.
type dashboardData struct {
	Applications   int
	TicketsWaiting int
	OldestWait     string
	// Overdue says the longest wait is past the flag time.
	Overdue     bool
	ByStatus    barChart
	ByCondition barChart
	Funnel      barChart
	PerDay      columnChart
}

// bar is one bar of a horizontal bar chart, laid out in SVG units.
type bar struct {
	Label string
	N     int
	// Note is shown after the count (a funnel's share of the first step).
	Note           string
	Y, W, X, TextX float64
	// Link filters the candidate list by the bar (empty: no link).
	Link string
}

// barChart is a horizontal bar chart.
type barChart struct {
	Title  string
	Bars   []bar
	Height float64
	// Centered bars make a funnel.
	Centered bool
	Empty    bool
}

// column is one day of the column chart.
type column struct {
	Label      string
	N          int
	X, Y, H, W float64
	// Mid is the column's centre, where its labels go.
	Mid float64
	// Tick says the day's label is drawn under the axis; Top that the
	// count is drawn over the (first) highest column.
	Tick bool
	Top  bool
}

// columnChart is a column chart of counts per day.
type columnChart struct {
	// Title is set by the page (titled).
	Title string
	// Days is the number of days the chart covers.
	Days    int
	Columns []column
	Max     int
	Total   int
	// Base is the axis's y.
	Base float64
}

// SVG geometry (viewBox units) of the charts.
const (
	chartWidth   = 340.0
	labelWidth   = 104.0
	barArea      = 176.0
	barHeight    = 18.0
	barGap       = 8.0
	columnHeight = 120.0
)

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	now := c.now()
	d, err := c.deps.Store.Dashboard(r.Context(), c.plan.ID, dashboardDays, dialogs.ChinaTime, now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := dashboardData{Applications: d.Applications, TicketsWaiting: d.TicketsWaiting}
	if !d.OldestWaiting.IsZero() {
		data.OldestWait = waited(now.Sub(d.OldestWaiting))
		data.Overdue = now.Sub(d.OldestWaiting) > c.cfg.TicketFlagAfter
	}
	var statusBars []bar
	for _, st := range store.Statuses() {
		statusBars = append(statusBars, bar{Label: label("status", string(st)), N: d.ByStatus[st], Link: "/admin/candidates?status=" + string(st)})
	}
	data.ByStatus = hbars(statusBars, false)
	var condBars []bar
	for _, cond := range c.plan.Conditions {
		condBars = append(condBars, bar{Label: msg("candidate.condition", "key", cond.Key), N: d.ByCondition[cond.Key], Link: "/admin/candidates?condition=" + cond.Key})
	}
	condBars = append(condBars, bar{Label: msg("candidate.undecided"), N: d.ByCondition[""], Link: "/admin/candidates?condition=-"})
	data.ByCondition = hbars(condBars, false)
	var funnel []bar
	first := d.Reached[funnelSteps[0]]
	for _, st := range funnelSteps {
		b := bar{Label: label("status", string(st)), N: d.Reached[st]}
		if first > 0 {
			b.Note = strconv.Itoa(d.Reached[st]*100/first) + "%"
		}
		funnel = append(funnel, b)
	}
	data.Funnel = hbars(funnel, true)
	data.PerDay = dayColumns(d.PerDay)
	data.PerDay.Days = dashboardDays
	c.render(w, r, "dashboard", data)
}

// titled gives a chart its title (the page's text).
func titled(title string, chart any) (any, error) {
	switch ch := chart.(type) {
	case barChart:
		ch.Title = title
		return ch, nil
	case columnChart:
		ch.Title = title
		return ch, nil
	}
	return nil, fmt.Errorf("titled: %T is not a chart", chart)
}

// hbars lays out a horizontal bar chart scaled to its largest bar.
func hbars(bars []bar, centered bool) barChart {
	most := 0
	for _, b := range bars {
		most = max(most, b.N)
	}
	ch := barChart{Centered: centered, Empty: most == 0}
	for i, b := range bars {
		b.Y = float64(i) * (barHeight + barGap)
		if most > 0 {
			b.W = barArea * float64(b.N) / float64(most)
		}
		if b.N > 0 {
			b.W = max(b.W, 2) // a count above zero stays visible
		}
		b.X = labelWidth
		if centered {
			b.X = labelWidth + (barArea-b.W)/2
		}
		b.TextX = labelWidth + barArea + 6
		if !centered {
			b.TextX = labelWidth + b.W + 6
		}
		ch.Bars = append(ch.Bars, b)
	}
	ch.Height = float64(len(bars))*(barHeight+barGap) - barGap
	return ch
}

// dayColumns lays out one column per day, the last day and every
// seventh before it labelled.
func dayColumns(days []store.DayCount) columnChart {
	ch := columnChart{Base: columnHeight}
	for _, d := range days {
		ch.Max = max(ch.Max, d.N)
		ch.Total += d.N
	}
	if len(days) == 0 {
		return ch
	}
	slot := chartWidth / float64(len(days))
	topped := false
	for i, d := range days {
		col := column{Label: d.Day.Format("1/2"), N: d.N, W: slot * 0.7, X: float64(i)*slot + slot*0.15, Mid: (float64(i) + 0.5) * slot}
		if ch.Max > 0 {
			col.H = (columnHeight - 4) * float64(d.N) / float64(ch.Max)
		}
		if d.N > 0 {
			col.H = max(col.H, 2)
		}
		col.Y = columnHeight - col.H
		col.Tick = (len(days)-1-i)%7 == 0
		if d.N == ch.Max && d.N > 0 && !topped {
			col.Top, topped = true, true
		}
		ch.Columns = append(ch.Columns, col)
	}
	return ch
}
