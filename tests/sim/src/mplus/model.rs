//! What the MplusKASSA simulator stores. Money is in cents (the WSDL's `long` prices and
//! amounts); quantities are kept in thousandths and written as `long` + `decimalPlaces`.

use std::sync::Arc;

use crate::clock::Millis;

/// Quantities are stored with this many decimals.
pub const QTY_DECIMALS: u32 = 3;
/// One unit in stored quantity.
pub const QTY_ONE: i64 = 1000;

/// A branch (filiaal) holding stock.
#[derive(Clone, Debug)]
pub struct Branch {
    /// `branchNumber`.
    pub number: i32,
    /// Display name.
    pub name: String,
}

/// An article group (`ArticleGroup`).
#[derive(Clone, Debug)]
pub struct ArticleGroup {
    /// `groupNumber`.
    pub number: i32,
    /// `name`.
    pub name: String,
    /// `text`.
    pub text: String,
    /// The parent group, for sub groups.
    pub parent: Option<i32>,
    /// `sortOrder`.
    pub sort_order: i32,
    /// `syncMarker`.
    pub marker: i64,
}

/// A sellable article (a product's variant).
#[derive(Clone, Debug)]
pub struct Article {
    /// `articleNumber`.
    pub number: i64,
    /// `pluNumber` (the shop's article code / SKU).
    pub plu: String,
    /// `description`.
    pub description: String,
    /// `colour`.
    pub colour: Option<String>,
    /// `size`.
    pub size: Option<String>,
    /// `barcode` (EAN-13).
    pub barcode: String,
    /// `priceIncl`, cents.
    pub price_incl: i64,
    /// `priceExcl`, cents.
    pub price_excl: i64,
    /// `purchasePrice`, cents.
    pub purchase_price: i64,
    /// `vatCode` (1 = high, 2 = low, 0 = none).
    pub vat_code: i32,
    /// `vatPercentage`.
    pub vat_percentage: i32,
    /// `turnoverGroup`.
    pub turnover_group: i32,
    /// `brandName`.
    pub brand: String,
    /// `active`.
    pub active: bool,
    /// `webshop`.
    pub webshop: bool,
    /// `stockArticle`.
    pub stock_article: bool,
    /// `createTimestamp`.
    pub created: Millis,
    /// `changeTimestamp`.
    pub changed: Millis,
    /// `syncMarker`.
    pub marker: i64,
}

/// A product with its articles (`Product`).
#[derive(Clone, Debug)]
pub struct Product {
    /// `productNumber`.
    pub number: i64,
    /// `description`.
    pub description: String,
    /// `extraText`.
    pub extra_text: String,
    /// `articleList`.
    pub articles: Vec<Article>,
    /// `groupNumbers`.
    pub groups: Vec<i32>,
    /// `syncMarker`: the latest change of the product or one of its articles.
    pub marker: i64,
}

/// A relation (debtor: person or company).
#[derive(Clone, Debug, Default)]
pub struct Relation {
    /// `relationNumber`.
    pub number: i64,
    /// `extRelationId`.
    pub ext_id: Option<String>,
    /// `name`.
    pub name: String,
    /// `companyName` (companies only).
    pub company_name: Option<String>,
    /// `contact`.
    pub contact: Option<String>,
    /// `address`, `zipcode`, `city`, `country`.
    pub address: String,
    /// `zipcode`.
    pub zipcode: String,
    /// `city`.
    pub city: String,
    /// `country`.
    pub country: String,
    /// `deliveryAddress` … when different.
    pub delivery_address: Option<String>,
    /// `deliveryZipcode`.
    pub delivery_zipcode: Option<String>,
    /// `deliveryCity`.
    pub delivery_city: Option<String>,
    /// `deliveryCountry`.
    pub delivery_country: Option<String>,
    /// `telephone`.
    pub telephone: Option<String>,
    /// `mobile`.
    pub mobile: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `vatNumber`.
    pub vat_number: Option<String>,
    /// `commerceNumber`.
    pub commerce_number: Option<String>,
    /// `extraText`.
    pub extra_text: Option<String>,
    /// `categoryId`.
    pub category_id: i32,
    /// `paymentWithinDays`.
    pub payment_within_days: i32,
    /// `active`.
    pub active: bool,
    /// `createTimestamp`.
    pub created: Millis,
    /// `changeTimestamp`.
    pub changed: Millis,
    /// `syncMarker`.
    pub marker: i64,
}

/// An order address (`Address`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// `name`.
    pub name: Option<String>,
    /// `contact`.
    pub contact: Option<String>,
    /// `address`.
    pub address: Option<String>,
    /// `zipcode`.
    pub zipcode: Option<String>,
    /// `city`.
    pub city: Option<String>,
    /// `country`.
    pub country: Option<String>,
    /// `companyName`.
    pub company_name: Option<String>,
}

/// An order line (`Line` + `LineData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `lineId`.
    pub id: String,
    /// `articleNumber`.
    pub article: i64,
    /// `pluNumber`.
    pub plu: String,
    /// `text`.
    pub text: String,
    /// Quantity in thousandths.
    pub quantity: i64,
    /// Delivered quantity in thousandths.
    pub delivered: i64,
    /// Cancelled quantity in thousandths.
    pub cancelled: i64,
    /// `price` (incl. VAT, per unit), cents.
    pub price: i64,
    /// `priceExcl`, cents.
    pub price_excl: i64,
    /// `vatCode`.
    pub vat_code: i32,
    /// `vatPercentage`.
    pub vat_percentage: i32,
    /// `turnoverGroup`.
    pub turnover_group: i32,
    /// `discountPercentage`.
    pub discount_percentage: i32,
}

impl Line {
    /// `totalInclAmount`: price × quantity less the discount, cents.
    pub fn total_incl(&self) -> i64 {
        let gross = (self.price as i128 * self.quantity as i128 / QTY_ONE as i128) as i64;
        gross - gross * i64::from(self.discount_percentage) / 100
    }

    /// `totalExclAmount`, cents.
    pub fn total_excl(&self) -> i64 {
        let incl = self.total_incl();
        incl * 100 / (100 + i64::from(self.vat_percentage))
    }
}

/// A payment on an order (`Payment`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// `paymentId`.
    pub id: String,
    /// `method` (e.g. `CONTANT`, `PIN`, `IDEAL`, `OPREKENING`).
    pub method: String,
    /// `amount`, cents.
    pub amount: i64,
    /// `entryTimestamp`.
    pub at: Millis,
}

/// `OrderDeliveryState` / `OrderCancelState` / `OrderCompleteState` share this shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// `…-NOTHING`.
    Nothing,
    /// `…-PARTIAL`.
    Partial,
    /// `…-COMPLETE`.
    Complete,
}

impl Progress {
    /// The WSDL enum value for a prefix such as `ORDER-DELIVERY-STATE`.
    pub fn wsdl(self, prefix: &str) -> String {
        let s = match self {
            Progress::Nothing => "NOTHING",
            Progress::Partial => "PARTIAL",
            Progress::Complete => "COMPLETE",
        };
        format!("{prefix}-{s}")
    }

    /// Reads `PREFIX-NOTHING|PARTIAL|COMPLETE`.
    pub fn parse(prefix: &str, text: &str) -> Option<Progress> {
        let rest = text.trim().strip_prefix(prefix)?.strip_prefix('-')?;
        match rest {
            "NOTHING" => Some(Progress::Nothing),
            "PARTIAL" => Some(Progress::Partial),
            "COMPLETE" => Some(Progress::Complete),
            _ => None,
        }
    }
}

/// An order (`Order`).
#[derive(Clone, Debug)]
pub struct Order {
    /// `orderId`.
    pub id: String,
    /// `extOrderId`.
    pub ext_id: Option<String>,
    /// `orderNumber.year`.
    pub year: i32,
    /// `orderNumber.number`.
    pub number: i64,
    /// `orderType` (`ORDER-TYPE-…`).
    pub order_type: &'static str,
    /// `entryBranchNumber` = `financialBranchNumber`.
    pub branch: i32,
    /// `workplaceNumber`.
    pub workplace: i32,
    /// `employeeNumber`.
    pub employee: i64,
    /// `relationNumber` (0 = anonymous).
    pub relation: i64,
    /// `entryTimestamp`.
    pub entry: Millis,
    /// `financialDate` (a day; stored as its midnight).
    pub financial: Millis,
    /// `reference`.
    pub reference: Option<String>,
    /// `deliveryAddress`.
    pub delivery_address: Option<Arc<Address>>,
    /// `invoiceAddress`.
    pub invoice_address: Option<Arc<Address>>,
    /// `deliveryMethod`.
    pub delivery_method: Option<String>,
    /// `paymentMethod`.
    pub payment_method: Option<String>,
    /// `lineList`.
    pub lines: Vec<Line>,
    /// `paymentList`.
    pub payments: Vec<Payment>,
    /// `deliveryState`.
    pub delivery: Progress,
    /// `cancelState`.
    pub cancel: Progress,
    /// `completeState`.
    pub complete: Progress,
    /// `changeCounter`: +1 per change.
    pub change_counter: i32,
    /// `versionNumber`.
    pub version: i32,
    /// `syncMarker`.
    pub marker: i64,
}

impl Order {
    /// `totalInclAmount`, cents.
    pub fn total_incl(&self) -> i64 {
        self.lines.iter().map(Line::total_incl).sum()
    }
    /// `totalExclAmount`, cents.
    pub fn total_excl(&self) -> i64 {
        self.lines.iter().map(Line::total_excl).sum()
    }
    /// `prepaidAmount`: the payments so far, cents.
    pub fn prepaid(&self) -> i64 {
        self.payments.iter().map(|p| p.amount).sum()
    }
    /// `fullyPaid`.
    pub fn fully_paid(&self) -> bool {
        self.prepaid() >= self.total_incl()
    }
    /// `orderString`, e.g. `2026-000123`.
    pub fn order_string(&self) -> String {
        format!("{}-{:06}", self.year, self.number)
    }
    /// The header values `getOrderChanges` reports as old/new.
    pub fn snapshot(&self) -> OrderSnapshot {
        OrderSnapshot {
            employee: self.employee,
            relation: self.relation,
            financial: self.financial,
            total_incl: self.total_incl(),
            total_excl: self.total_excl(),
            delivery_method: self.delivery_method.clone(),
            payment_method: self.payment_method.clone(),
            prepaid: self.prepaid(),
            fully_paid: self.fully_paid(),
            delivery: self.delivery,
            cancel: self.cancel,
            complete: self.complete,
            delivery_address: self.delivery_address.clone(),
            invoice_address: self.invoice_address.clone(),
        }
    }
}

/// Order header values at one moment, for the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSnapshot {
    /// `employeeNumber`.
    pub employee: i64,
    /// `relationNumber`.
    pub relation: i64,
    /// `financialDate`.
    pub financial: Millis,
    /// `totalInclAmount`.
    pub total_incl: i64,
    /// `totalExclAmount`.
    pub total_excl: i64,
    /// `deliveryMethod`.
    pub delivery_method: Option<String>,
    /// `paymentMethod`.
    pub payment_method: Option<String>,
    /// `prepaidAmount`.
    pub prepaid: i64,
    /// `fullyPaid`.
    pub fully_paid: bool,
    /// `deliveryState`.
    pub delivery: Progress,
    /// `cancelState`.
    pub cancel: Progress,
    /// `completeState`.
    pub complete: Progress,
    /// `deliveryAddress`.
    pub delivery_address: Option<Arc<Address>>,
    /// `invoiceAddress`.
    pub invoice_address: Option<Arc<Address>>,
}

/// One entry of the order change feed.
#[derive(Clone, Debug)]
pub struct OrderChangeRecord {
    /// Index into the order list.
    pub order: usize,
    /// Values before the change (`None` for a new order).
    pub old: Option<OrderSnapshot>,
    /// Values after the change.
    pub new: OrderSnapshot,
    /// `changeCounter` after the change.
    pub change_counter: i32,
    /// `versionNumber` after the change.
    pub version: i32,
}

/// Stock of one article in one branch, in thousandths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stock {
    /// `amountFree`.
    pub free: i64,
    /// `amountReserved`.
    pub reserved: i64,
    /// `amountIncoming`.
    pub incoming: i64,
    /// `stockId` of the latest change.
    pub stock_id: i64,
    /// `changeTimestamp`.
    pub changed: Millis,
}

/// Splits a stored quantity into the WSDL's `long` + `decimalPlaces` with as few decimals as
/// the value needs (`2500` → `(25, 1)` = 2.5; `3000` → `(3, 0)`).
pub fn split_qty(v: i64) -> (i64, u32) {
    let mut value = v;
    let mut places = QTY_DECIMALS;
    while places > 0 && value % 10 == 0 {
        value /= 10;
        places -= 1;
    }
    (value, places)
}

/// Joins a `long` + `decimalPlaces` into thousandths; `None` when it does not fit.
pub fn join_qty(value: i64, places: u32) -> Option<i64> {
    if places <= QTY_DECIMALS {
        value.checked_mul(10i64.checked_pow(QTY_DECIMALS - places)?)
    } else {
        let div = 10i64.checked_pow(places - QTY_DECIMALS)?;
        (value % div == 0).then(|| value / div)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_round_trip() {
        assert_eq!(split_qty(2500), (25, 1));
        assert_eq!(split_qty(3000), (3, 0));
        assert_eq!(split_qty(1), (1, 3));
        assert_eq!(split_qty(0), (0, 0));
        assert_eq!(join_qty(25, 1), Some(2500));
        assert_eq!(join_qty(3, 0), Some(3000));
        assert_eq!(join_qty(12345, 4), None);
        assert_eq!(join_qty(12340, 4), Some(1234));
    }
}
