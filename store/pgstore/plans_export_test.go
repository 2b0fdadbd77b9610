package pgstore

// KeyedStatement is a statement of the store that reads, locks or updates
// rows by the keys of an array parameter, with the settings its
// transaction makes before it runs.
type KeyedStatement struct {
	// Name names it in test output.
	Name string
	// Settings is the set_config statement of its transaction.
	Settings string
	// SQL is the statement in the store's schema.
	SQL string
}

// KeyedStatements are the store's statements with array parameters that
// read tables by key, or select a few rows by key with an array as a
// filter (TestKeyedStatementsProbeIndexes): the group's, and those of
// PutPersons, EnrollMembers and Reconcile. The clearing runs' reads select
// whole regions and plan for their values (runPlanSettings).
func KeyedStatements(s *Store) []KeyedStatement {
	group := func(name, sql string) KeyedStatement {
		return KeyedStatement{Name: "group " + name, Settings: groupLockTimeoutSQL, SQL: s.sql(sql)}
	}
	custom := func(name, sql string) KeyedStatement {
		return KeyedStatement{Name: name, Settings: customPlansSQL, SQL: s.sql(sql)}
	}
	return []KeyedStatement{
		group("lock", lockPersonsSQL),
		group("keys", groupKeysSQL),
		group("years", groupYearsSQL),
		group("budgets", groupBudgetsSQL),
		group("filings", groupFilingsSQL),
		group("balances", groupSetBalancesSQL),
		group("visits lock", lockMarkedVisitsSQL),
		group("visits mark", markVisitsSQL),
		group("details lock", lockVisitsSQL),
		group("details by sn", groupLiveBySNSQL),
		group("details put", groupPutDetailsSQL),
		custom("PutPersons lock", lockPersonsInOrderSQL),
		custom("EnrollMembers check", enrollCheckSQL),
		custom("EnrollMembers lock", enrollLockSQL),
		custom("EnrollMembers others", enrollOthersSQL),
		custom("Reconcile totals", reconcileTotalsSQL),
		custom("Reconcile list", reconcileListSQL),
	}
}
