package engine

// Limits on every request, so that no input can be unbounded.
const (
	// MaxItems is the most line items one claim may carry.
	MaxItems = 2000
	// MaxIDLen is the longest request, person, institution, settlement,
	// item or DRG code.
	MaxIDLen = 64
	// MaxNameLen is the longest name (persons, institutions, items).
	MaxNameLen = 200
	// MaxReasonLen is the longest reversal reason.
	MaxReasonLen = 500
	// MaxCatalog is the most entries a policy catalog may have.
	MaxCatalog = 200000
	// MaxBands is the most bands in one schedule.
	MaxBands = 32
	// MaxRows is the most rows of any other policy table.
	MaxRows = 256
	// MaxIdentities is the most dated identities one person may hold
	// (over all years).
	MaxIdentities = 64
	// MaxQuantityPlaces and MaxPricePlaces are the decimals accepted for
	// quantity, unit_price and price_cap.
	MaxQuantityPlaces = 4
	// MaxPricePlaces is the number of decimals accepted for prices.
	MaxPricePlaces = 6
	// MinYear and MaxYear bound every year and date (dates have four-digit
	// years).
	MinYear = 1900
	// MaxYear is the last year accepted.
	MaxYear = 9999
)

// MaxTotal bounds, in yuan, a claim's total (the sum of its line amounts),
// every figure of a settlement (breakdown, detail lines, budget usage) and
// every running total a settlement leaves (a person's year accumulators):
// the same bound as one line's amount, MaxMoney (one trillion yuan).
const MaxTotal = MaxMoney
