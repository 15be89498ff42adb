package catalog

// Service is the catalog's service (being written).
type Service struct{}
