package answers_test

import (
	"errors"
	"fmt"
	"time"

	"regbot/dialogs/answers"
)

func ExampleMatcher_Match() {
	majors := answers.NewMatcher([]string{"电子商务", "跨境电子商务", "市场营销", "网络营销"}, "专业")

	for _, typed := range []string{"浙江工商职业技术学院电子商务专业", "ＸＸ学院 跨境电子商务", "电子商物", "营销", "会计"} {
		canonical, ok, suggestions := majors.Match(typed)
		fmt.Printf("%s → %q %v %q\n", typed, canonical, ok, suggestions)
	}
	// Output:
	// 浙江工商职业技术学院电子商务专业 → "电子商务" true []
	// ＸＸ学院 跨境电子商务 → "跨境电子商务" true []
	// 电子商物 → "" false ["电子商务" "跨境电子商务"]
	// 营销 → "" false ["市场营销" "网络营销"]
	// 会计 → "" false []
}

func ExampleParseMonth() {
	now := time.Date(2025, 6, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

	m, _, _ := answers.ParseMonth("２０２３年５月", now, false)
	fmt.Println(m, m.Index()-answers.Month{Year: 2023, Month: 1}.Index()+1, "months since 2023-01")

	_, ongoing, _ := answers.ParseMonth("至今", now, true)
	fmt.Println("ongoing:", ongoing)

	_, _, err := answers.ParseMonth("2025-07", now, true)
	var inv *answers.Invalid
	if errors.As(err, &inv) {
		fmt.Println(inv.Code, inv.Args["year"], inv.Args["month"])
	}
	// Output:
	// 2023-05 5 months since 2023-01
	// ongoing: true
	// month_future 2025 6
}

func ExampleIDNumber() {
	now := time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	id, err := answers.IDNumber("110105 19491231 002x", now)
	fmt.Println(id, err)
	_, err = answers.IDNumber("110105194912310021", now)
	fmt.Println(err)
	// Output:
	// 11010519491231002X <nil>
	// invalid answer: id_checksum
}
