package main

import (
	"testing"

	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
