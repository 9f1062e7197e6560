package rules

// planVars and planConditions are the real plan's rule environment and
// eligibility conditions (DOMAIN.md §2).
func planVars() Vars {
	return Vars{
		"has_prior_cert":        Bool,
		"prior_cert_date":       String,
		"work_years_since_cert": Number,
		"work_years":            Number,
		"has_training_cert":     Bool,
		"training_hours":        Number,
		"school_kind":           String,
		"major_related":         Bool,
		"graduation":            String,
	}
}

func planConditions() []ConditionSpec {
	return []ConditionSpec{
		{Key: "C1", Clauses: []string{"has_prior_cert", "work_years_since_cert >= 3"}},
		{Key: "C2", Clauses: []string{"work_years >= 4"}},
		{Key: "C3", Clauses: []string{"work_years >= 2", "has_training_cert", "training_hours >= 104"}},
		{Key: "C4", Clauses: []string{`school_kind in ["technical", "vocational"]`, "major_related", `graduation in ["graduated", "final_year"]`}},
	}
}
