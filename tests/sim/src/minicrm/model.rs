//! MiniCRM records as the simulator stores them, the account's modules (categories) with their
//! statuses and fields, and MiniCRM's local-time date format.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

use crate::clock::Millis;

/// A status group of a module's status, as the `StatusGroup` filter names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusGroup {
    /// Not yet worked on.
    Lead,
    /// In progress.
    Open,
    /// Closed successfully.
    Success,
    /// Closed unsuccessfully.
    Failed,
}

impl StatusGroup {
    /// The filter value.
    pub fn name(self) -> &'static str {
        match self {
            StatusGroup::Lead => "Lead",
            StatusGroup::Open => "Open",
            StatusGroup::Success => "Success",
            StatusGroup::Failed => "Failed",
        }
    }

    /// Parses a filter value (case-insensitive).
    pub fn parse(text: &str) -> Option<StatusGroup> {
        [
            StatusGroup::Lead,
            StatusGroup::Open,
            StatusGroup::Success,
            StatusGroup::Failed,
        ]
        .into_iter()
        .find(|g| g.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// One status of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// `StatusId`.
    pub id: u32,
    /// The name shown in the CRM.
    pub name: &'static str,
    /// Its group.
    pub group: StatusGroup,
}

/// The type of a module field, as `Schema` prints it.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldType {
    /// `Text(n)`: at most n characters.
    Text(usize),
    /// `Int`.
    Int,
    /// `Float`.
    Float,
    /// `DateTime` (`yyyy-mm-dd hh:mm:ss`, Hungarian local time).
    DateTime,
    /// `Boolean` (0/1).
    Boolean,
    /// A drop-down: option id → label.
    Enum(Vec<(u32, &'static str)>),
}

/// A module-specific field of a project (adatlap).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The API name, e.g. `Order_Number`.
    pub name: &'static str,
    /// The label used in error messages.
    pub label: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether a new project of this module must carry it.
    pub required: bool,
}

/// What a module is for; decides its fields and statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    /// A sales pipeline (Értékesítés), unrelated to the web shop.
    Sales,
    /// The Order module (Megrendelés): one project per web-shop order.
    Order,
    /// The Webshop module: one project per web-shop customer.
    Webshop,
}

/// A module ("product", category) of the account.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// `CategoryId`.
    pub id: u32,
    /// Its kind.
    pub kind: ModuleKind,
    /// Its name.
    pub name: &'static str,
    /// Position in the menu (`OrderId` of `Category?Detailed=1`).
    pub order: u32,
    /// Statuses in pipeline order.
    pub statuses: Vec<Status>,
    /// Module-specific fields.
    pub fields: Vec<Field>,
}

impl Module {
    /// Builds the module of `kind` with the fixed ids the simulator uses.
    pub fn new(kind: ModuleKind) -> Module {
        use StatusGroup::*;
        let st = |id, name, group| Status { id, name, group };
        match kind {
            ModuleKind::Sales => Module {
                id: 19,
                kind,
                name: "Értékesítés",
                order: 1,
                statuses: vec![
                    st(2500, "Érdeklődő", Lead),
                    st(2501, "Ajánlat kiküldve", Open),
                    st(2502, "Tárgyalás", Open),
                    st(2503, "Megnyert", Success),
                    st(2504, "Elvesztett", Failed),
                ],
                fields: vec![
                    Field {
                        name: "Sales_ExpectedRevenue",
                        label: "Várható bevétel",
                        ty: FieldType::Float,
                        required: false,
                    },
                    Field {
                        name: "Sales_Source",
                        label: "Forrás",
                        ty: FieldType::Enum(vec![
                            (2673, "Facebook"),
                            (2675, "SEO"),
                            (2677, "Google Ads"),
                            (2774, "Ajánlás"),
                        ]),
                        required: false,
                    },
                ],
            },
            ModuleKind::Order => Module {
                id: 21,
                kind,
                name: "Megrendelés",
                order: 2,
                statuses: vec![
                    st(3001, "Új megrendelés", Lead),
                    st(3002, "Fizetésre vár", Open),
                    st(3003, "Feldolgozás alatt", Open),
                    st(3004, "Kiszállítva", Open),
                    st(3005, "Teljesítve", Success),
                    st(3006, "Lemondva", Failed),
                    st(3007, "Visszaküldve", Failed),
                ],
                fields: vec![
                    Field {
                        name: "Order_Number",
                        label: "Rendelésszám",
                        ty: FieldType::Text(64),
                        required: true,
                    },
                    Field {
                        name: "Order_Date",
                        label: "Rendelés dátuma",
                        ty: FieldType::DateTime,
                        required: false,
                    },
                    Field {
                        name: "Order_Total",
                        label: "Végösszeg",
                        ty: FieldType::Float,
                        required: false,
                    },
                    Field {
                        name: "Order_Currency",
                        label: "Pénznem",
                        ty: FieldType::Enum(vec![(4101, "HUF"), (4102, "EUR"), (4103, "USD")]),
                        required: false,
                    },
                    Field {
                        name: "Order_PaymentMethod",
                        label: "Fizetési mód",
                        ty: FieldType::Enum(vec![
                            (4111, "Bankkártya"),
                            (4112, "Utánvét"),
                            (4113, "Átutalás"),
                            (4114, "PayPal"),
                        ]),
                        required: false,
                    },
                    Field {
                        name: "Order_ShippingMethod",
                        label: "Szállítási mód",
                        ty: FieldType::Enum(vec![
                            (4121, "Futárszolgálat"),
                            (4122, "Személyes átvétel"),
                            (4123, "Csomagautomata"),
                        ]),
                        required: false,
                    },
                    Field {
                        name: "Order_Paid",
                        label: "Fizetve",
                        ty: FieldType::Boolean,
                        required: false,
                    },
                    Field {
                        name: "Order_CouponCode",
                        label: "Kuponkód",
                        ty: FieldType::Text(255),
                        required: false,
                    },
                    Field {
                        name: "Order_CouponValue",
                        label: "Kupon értéke",
                        ty: FieldType::Float,
                        required: false,
                    },
                    Field {
                        name: "Order_ShopStatus",
                        label: "Webshop státusz",
                        ty: FieldType::Text(255),
                        required: false,
                    },
                    Field {
                        name: "Order_Items",
                        label: "Tételek",
                        ty: FieldType::Text(65535),
                        required: false,
                    },
                    Field {
                        name: "Order_ExternalId",
                        label: "Külső azonosító",
                        ty: FieldType::Text(255),
                        required: false,
                    },
                ],
            },
            ModuleKind::Webshop => Module {
                id: 22,
                kind,
                name: "Webshop",
                order: 3,
                statuses: vec![
                    st(3101, "Új vásárló", Lead),
                    st(3102, "Visszatérő vásárló", Open),
                    st(3103, "Törzsvásárló", Success),
                    st(3104, "Inaktív", Failed),
                ],
                fields: vec![
                    Field {
                        name: "Webshop_CustomerId",
                        label: "Webshop vásárló azonosító",
                        ty: FieldType::Text(255),
                        required: false,
                    },
                    Field {
                        name: "Webshop_OrderCount",
                        label: "Rendelések száma",
                        ty: FieldType::Int,
                        required: false,
                    },
                    Field {
                        name: "Webshop_TotalSpent",
                        label: "Összes vásárlás",
                        ty: FieldType::Float,
                        required: false,
                    },
                    Field {
                        name: "Webshop_LastOrderDate",
                        label: "Utolsó rendelés",
                        ty: FieldType::DateTime,
                        required: false,
                    },
                    Field {
                        name: "Webshop_Newsletter",
                        label: "Hírlevél",
                        ty: FieldType::Boolean,
                        required: false,
                    },
                ],
            },
        }
    }

    /// Finds a status by id or by name (case-insensitive), as `PUT Project` accepts both.
    pub fn status(&self, given: &str) -> Option<&Status> {
        let g = given.trim();
        self.statuses
            .iter()
            .find(|s| s.id.to_string() == g || s.name.to_lowercase() == g.to_lowercase())
    }

    /// The position of a module field by API name (case-sensitive, as PHP array keys are).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// A CRM user (responsible of projects).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmUser {
    /// `UserId`.
    pub id: u32,
    /// Full name.
    pub name: &'static str,
}

/// The account's users.
pub const USERS: &[CrmUser] = &[
    CrmUser {
        id: 115950,
        name: "Kovács Anna",
    },
    CrmUser {
        id: 115951,
        name: "Szabó Péter",
    },
    CrmUser {
        id: 115952,
        name: "Tóth Eszter",
    },
    CrmUser {
        id: 115953,
        name: "Nagy Gábor",
    },
];

/// The name `CreatedBy`/`UpdatedBy` shows for changes made through the API.
pub const API_USER: &str = "API";

/// A stored value of a module field.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// Text.
    Text(Box<str>),
    /// Whole number.
    Int(i64),
    /// Number.
    Float(f64),
    /// A time.
    DateTime(Millis),
    /// 0/1.
    Bool(bool),
    /// An option id of a drop-down.
    Enum(u32),
}

/// Person or business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactType {
    /// `Person`.
    Person,
    /// `Business`.
    Business,
}

impl ContactType {
    /// The `Type` text.
    pub fn name(self) -> &'static str {
        match self {
            ContactType::Person => "Person",
            ContactType::Business => "Business",
        }
    }
}

/// A contact (person or business); persons and businesses share one id sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// `Id`.
    pub id: u32,
    /// `Type`.
    pub kind: ContactType,
    /// Business name (businesses only).
    pub name: String,
    /// Persons only.
    pub first_name: String,
    /// Persons only.
    pub last_name: String,
    /// As stored, with whatever case and whitespace it was given.
    pub email: String,
    /// As stored.
    pub phone: String,
    /// Free text.
    pub description: String,
    /// The person's business.
    pub business_id: Option<u32>,
    /// Businesses only.
    pub vat_number: String,
    /// Persons only.
    pub position: String,
    /// 0/1.
    pub deleted: bool,
    /// Who created it.
    pub created_by: &'static str,
    /// When.
    pub created_at: Millis,
    /// Who changed it last.
    pub updated_by: &'static str,
    /// When.
    pub updated_at: Millis,
    /// Ids of its addresses.
    pub addresses: Vec<u32>,
}

impl Contact {
    /// The name search results show: a business's name, a person's "First Last".
    pub fn display_name(&self) -> String {
        match self.kind {
            ContactType::Business => self.name.clone(),
            ContactType::Person => match (self.first_name.is_empty(), self.last_name.is_empty()) {
                (false, false) => format!("{} {}", self.first_name, self.last_name),
                (false, true) => self.first_name.clone(),
                _ => self.last_name.clone(),
            },
        }
    }
}

/// A postal address of a contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    /// `Id`.
    pub id: u32,
    /// `ContactId`.
    pub contact_id: u32,
    /// `Type`, e.g. `Számlázási cím`.
    pub kind: String,
    /// `Name`.
    pub name: String,
    /// `CountryId`: a country name, e.g. `Magyarország`.
    pub country: String,
    /// `PostalCode`.
    pub postal_code: String,
    /// `City`.
    pub city: String,
    /// `County`.
    pub county: String,
    /// `Address`: street and number.
    pub address: String,
    /// `Default`.
    pub default: bool,
    /// Who created it.
    pub created_by: &'static str,
    /// When.
    pub created_at: Millis,
    /// Who changed it last.
    pub updated_by: &'static str,
    /// When.
    pub updated_at: Millis,
}

/// One status change of a project (`ProjectHistory?Type=StatusHistory`).
#[derive(Clone, Debug, PartialEq)]
pub struct StatusChange {
    /// History entry id.
    pub id: u32,
    /// Old status (None for the first one).
    pub old: Option<u32>,
    /// New status.
    pub new: u32,
    /// The user who made it (0 = API/automation).
    pub user_id: u32,
    /// When.
    pub at: Millis,
}

/// A project (adatlap) of a module.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// `Id`.
    pub id: u32,
    /// `CategoryId`.
    pub category_id: u32,
    /// `ContactId`.
    pub contact_id: u32,
    /// `BusinessId`.
    pub business_id: Option<u32>,
    /// `UserId`.
    pub user_id: u32,
    /// `StatusId`.
    pub status_id: u32,
    /// `Name`.
    pub name: String,
    /// `StatusUpdatedAt`.
    pub status_updated_at: Millis,
    /// `Deleted`.
    pub deleted: bool,
    /// Who created it.
    pub created_by: &'static str,
    /// When.
    pub created_at: Millis,
    /// Who changed it last.
    pub updated_by: &'static str,
    /// When.
    pub updated_at: Millis,
    /// Module field values, by the module's field position.
    pub fields: Vec<Option<FieldValue>>,
    /// Status changes after the first one (the first is derived from creation).
    pub history: Vec<StatusChange>,
}

// ---- Hungarian local time ----

/// The UTC offset of Europe/Budapest at a UTC instant, in seconds: CET (+1 h), or CEST (+2 h)
/// from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC.
pub fn budapest_offset_secs(utc: Millis) -> i64 {
    let t = crate::clock::to_datetime(utc);
    let year = t.year();
    let last_sunday = |month: u32| -> i64 {
        let mut d = NaiveDate::from_ymd_opt(year, month, 31).unwrap_or_default();
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt().unwrap_or(d);
        }
        d.and_hms_opt(1, 0, 0)
            .map(|x| x.and_utc().timestamp_millis())
            .unwrap_or(0)
    };
    if utc >= last_sunday(3) && utc < last_sunday(10) {
        7200
    } else {
        3600
    }
}

/// Formats as MiniCRM does: `yyyy-mm-dd hh:mm:ss` in Hungarian local time.
pub fn format_local(utc: Millis) -> String {
    let local = utc + budapest_offset_secs(utc) * 1000;
    crate::clock::to_datetime(local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Parses `yyyy-mm-dd hh:mm:ss`, `yyyy-mm-dd+hh:mm:ss`, `yyyy-mm-ddThh:mm:ss` or `yyyy-mm-dd`
/// as Hungarian local time; returns the UTC instant.
pub fn parse_local(text: &str) -> Option<Millis> {
    let t = text.trim().replace(['+', 'T'], " ");
    let naive = NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    let as_utc = Utc.from_utc_datetime(&naive).timestamp_millis();
    // The offset at (local - 1 h) is right except inside the skipped/repeated hour.
    let offset = budapest_offset_secs(as_utc - 3_600_000);
    Some(as_utc - offset * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budapest_time_round_trips_across_dst() {
        // 2026-01-01T00:00:00Z is 01:00 in Budapest (CET).
        let winter = crate::clock::DEFAULT_BASE_TIME;
        assert_eq!(format_local(winter), "2026-01-01 01:00:00");
        assert_eq!(parse_local("2026-01-01 01:00:00"), Some(winter));
        // 2026-07-01T10:00:00Z is 12:00 (CEST).
        let summer = crate::clock::parse_timestamp("2026-07-01T10:00:00Z").unwrap();
        assert_eq!(format_local(summer), "2026-07-01 12:00:00");
        assert_eq!(parse_local("2026-07-01+12:00:00"), Some(summer));
        assert_eq!(
            parse_local("2026-07-01"),
            crate::clock::parse_timestamp("2026-06-30T22:00:00Z")
        );
        assert_eq!(parse_local("tegnap"), None);
    }
}
