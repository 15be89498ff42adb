package invoice

import (
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

func kindToPB(k DocumentKind) pb.DocumentKind {
	if k == DocumentCreditNote {
		return pb.DocumentKind_DOCUMENT_KIND_CREDIT_NOTE
	}
	return pb.DocumentKind_DOCUMENT_KIND_INVOICE
}

func kindFromPB(k pb.DocumentKind) DocumentKind {
	if k == pb.DocumentKind_DOCUMENT_KIND_CREDIT_NOTE {
		return DocumentCreditNote
	}
	return DocumentInvoice
}

func addressToPB(a Address) *pb.Address {
	return &pb.Address{Lines: a.Lines, City: a.City, PostalCode: a.PostalCode, Region: a.Region, Country: a.Country}
}

func addressFromPB(a *pb.Address) Address {
	return Address{Lines: a.GetLines(), City: a.GetCity(), PostalCode: a.GetPostalCode(), Region: a.GetRegion(), Country: a.GetCountry()}
}

func partyToPB(p Party) *pb.Party {
	return &pb.Party{Name: p.Name, Company: p.Company, TaxId: p.TaxID, Email: p.Email, Phone: p.Phone, Address: addressToPB(p.Address)}
}

func partyFromPB(p *pb.Party) Party {
	return Party{Name: p.GetName(), Company: p.GetCompany(), TaxID: p.GetTaxId(), Email: p.GetEmail(), Phone: p.GetPhone(), Address: addressFromPB(p.GetAddress())}
}

func orderToPB(o Order) *pb.Order {
	out := &pb.Order{
		Id: o.ID, Number: o.Number, StoreId: o.StoreID, Currency: o.Currency, PlacedAt: rpc.TS(o.PlacedAt),
		Totals: &pb.Totals{
			Subtotal: rpc.MoneyToPB(o.Totals.Subtotal), Discount: rpc.MoneyToPB(o.Totals.Discount),
			Shipping: rpc.MoneyToPB(o.Totals.Shipping), Tax: rpc.MoneyToPB(o.Totals.Tax), Total: rpc.MoneyToPB(o.Totals.Total),
			Paid: rpc.MoneyToPB(o.Totals.Paid), Refunded: rpc.MoneyToPB(o.Totals.Refunded),
		},
		Seller: partyToPB(o.Seller), Buyer: partyToPB(o.Buyer),
		PaymentStatus: o.PaymentStatus, FulfillmentStatus: o.FulfillmentStatus, Locale: o.Locale, Metadata: o.Metadata,
	}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, &pb.OrderLine{
			Id: l.ID, Sku: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: rpc.MoneyToPB(l.UnitPrice),
			Discount: rpc.MoneyToPB(l.Discount), TaxRate: l.TaxRate, Tax: rpc.MoneyToPB(l.Tax), Total: rpc.MoneyToPB(l.Total),
			PricesIncludeTax: l.PricesIncludeTax,
		})
	}
	for _, t := range o.Taxes {
		out.Taxes = append(out.Taxes, &pb.TaxLine{Name: t.Name, Rate: t.Rate, Base: rpc.MoneyToPB(t.Base), Amount: rpc.MoneyToPB(t.Amount)})
	}
	return out
}

func orderFromPB(o *pb.Order) Order {
	t := o.GetTotals()
	out := Order{
		ID: o.GetId(), Number: o.GetNumber(), StoreID: o.GetStoreId(), Currency: o.GetCurrency(), PlacedAt: rpc.Time(o.GetPlacedAt()),
		Totals: Totals{
			Subtotal: rpc.MoneyFromPB(t.GetSubtotal()), Discount: rpc.MoneyFromPB(t.GetDiscount()),
			Shipping: rpc.MoneyFromPB(t.GetShipping()), Tax: rpc.MoneyFromPB(t.GetTax()), Total: rpc.MoneyFromPB(t.GetTotal()),
			Paid: rpc.MoneyFromPB(t.GetPaid()), Refunded: rpc.MoneyFromPB(t.GetRefunded()),
		},
		Seller: partyFromPB(o.GetSeller()), Buyer: partyFromPB(o.GetBuyer()),
		PaymentStatus: o.GetPaymentStatus(), FulfillmentStatus: o.GetFulfillmentStatus(), Locale: o.GetLocale(), Metadata: o.GetMetadata(),
	}
	for _, l := range o.GetLines() {
		out.Lines = append(out.Lines, OrderLine{
			ID: l.GetId(), SKU: l.GetSku(), Name: l.GetName(), Quantity: l.GetQuantity(), UnitPrice: rpc.MoneyFromPB(l.GetUnitPrice()),
			Discount: rpc.MoneyFromPB(l.GetDiscount()), TaxRate: l.GetTaxRate(), Tax: rpc.MoneyFromPB(l.GetTax()), Total: rpc.MoneyFromPB(l.GetTotal()),
			PricesIncludeTax: l.GetPricesIncludeTax(),
		})
	}
	for _, t := range o.GetTaxes() {
		out.Taxes = append(out.Taxes, TaxLine{Name: t.GetName(), Rate: t.GetRate(), Base: rpc.MoneyFromPB(t.GetBase()), Amount: rpc.MoneyFromPB(t.GetAmount())})
	}
	return out
}

func problemsToPB(ps []Problem) []*pb.Problem {
	var out []*pb.Problem
	for _, p := range ps {
		out = append(out, &pb.Problem{Field: p.Field, Code: p.Code, Message: p.Message})
	}
	return out
}

func problemsFromPB(ps []*pb.Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		out = append(out, Problem{Field: p.GetField(), Code: p.GetCode(), Message: p.GetMessage()})
	}
	return out
}
