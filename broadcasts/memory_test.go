package broadcasts_test

import (
	"regbot/broadcasts"
	"regbot/store/memory"
)

func memoryLimiter() broadcasts.Limiter { return memory.New() }
