package cart

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
)

// checkProvince refuses a shipping address whose province Kassa cannot
// read as one of its country's subdivisions (country.Subdivision: a code
// or the English name), when the shop's tax rates or shipping zones tell
// regions of that country apart. Tax and shipping match regions by code:
// "Q C" or "Quebeck" would otherwise price a parcel to Quebec at the
// country's rate. Elsewhere the province is free text (a Chinese
// address's 浙江省 is fine while nothing depends on it). field is the
// address's path in the errors, "" for the address itself.
func (s *Service) checkProvince(ctx context.Context, a *order.Address, field string) error {
	if a == nil || !country.HasSubdivisions(a.CountryCode) {
		return nil
	}
	if _, ok := country.Subdivision(a.CountryCode, a.Province); ok {
		return nil
	}
	regional, err := s.tax.Regional(ctx, a.CountryCode)
	if err != nil {
		return err
	}
	if !regional {
		if regional, err = s.rates.Regional(ctx, a.CountryCode); err != nil {
			return err
		}
	}
	if !regional {
		return nil
	}
	path := "province"
	if field != "" {
		path = field + ".province"
	}
	if a.Province == "" {
		return errs.Invalid(path, CodeProvinceRequired, "enter the state or province: tax and shipping depend on it here")
	}
	return errs.Invalid(path, CodeInvalidProvince,
		fmt.Sprintf("%q is not a state or province of %s; enter its name or code (such as QC for Quebec)", a.Province, a.CountryCode))
}
