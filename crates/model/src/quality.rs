//! Data quality: how complete a record is in the optional elements that risk analysis uses.
//!
//! A record can be valid and still poor for risk targeting (no origin, no net mass, no
//! valuation method…). The score is the share of those elements present, and the missing ones
//! are named, so a trader knows what to add.

use serde::Serialize;

use crate::records::Record;

/// The completeness of a record.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Quality {
    /// Share of the expected elements present, from 0.0 to 1.0.
    pub score: f64,
    /// How many expected elements are present.
    pub present: usize,
    /// How many elements are expected.
    pub expected: usize,
    /// The paths of the elements missing (per goods item where it applies).
    pub missing: Vec<String>,
}

struct Tally {
    present: usize,
    expected: usize,
    missing: Vec<String>,
}

impl Tally {
    fn see(&mut self, present: bool, path: impl FnOnce() -> String) {
        self.expected += 1;
        if present {
            self.present += 1;
        } else {
            self.missing.push(path());
        }
    }
}

/// Scores a record's completeness.
pub fn assess(record: &Record) -> Quality {
    let mut t = Tally { present: 0, expected: 0, missing: Vec::new() };
    match record {
        Record::Declaration(r) => {
            let d = &r.declaration;
            let gs = d.goods_shipment.as_ref();
            let cons = gs.and_then(|g| g.consignment.as_ref());
            t.see(d.declaration_office_id.is_some(), || "$.Declaration.DeclarationOfficeID".into());
            t.see(d.declarant.as_ref().is_some_and(|p| p.id.is_some()), || "$.Declaration.Declarant.ID".into());
            t.see(d.exporter.as_ref().is_some_and(|p| p.id.is_some() || p.name.is_some()), || {
                "$.Declaration.Exporter".into()
            });
            t.see(gs.and_then(|g| g.importer.as_ref()).is_some_and(|p| p.id.is_some()), || {
                "$.Declaration.GoodsShipment.Importer.ID".into()
            });
            t.see(d.invoice_amount.is_some(), || "$.Declaration.InvoiceAmount".into());
            t.see(d.total_gross_mass_measure.is_some(), || "$.Declaration.TotalGrossMassMeasure".into());
            t.see(d.border_transport_means.as_ref().is_some_and(|b| b.mode_code.is_some()), || {
                "$.Declaration.BorderTransportMeans.ModeCode".into()
            });
            t.see(gs.and_then(|g| g.export_country.as_ref()).is_some(), || {
                "$.Declaration.GoodsShipment.ExportCountry".into()
            });
            t.see(gs.and_then(|g| g.trade_terms.as_ref()).is_some(), || {
                "$.Declaration.GoodsShipment.TradeTerms".into()
            });
            t.see(cons.and_then(|c| c.loading_location.as_ref()).is_some(), || {
                "$.Declaration.GoodsShipment.Consignment.LoadingLocation".into()
            });
            t.see(cons.is_some_and(|c| !c.transport_equipment.is_empty()), || {
                "$.Declaration.GoodsShipment.Consignment.TransportEquipment".into()
            });
            for (i, item) in
                gs.map(|g| g.government_agency_goods_item.as_slice()).unwrap_or_default().iter().enumerate()
            {
                let p = |k: &str| format!("$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[{i}].{k}");
                let c = item.commodity.as_ref();
                t.see(c.is_some_and(|c| !c.classification.is_empty()), || p("Commodity.Classification"));
                t.see(c.and_then(|c| c.description.as_ref()).is_some(), || p("Commodity.Description"));
                t.see(!item.origin.is_empty(), || p("Origin"));
                t.see(item.statistical_value_amount.is_some() || item.customs_value_amount.is_some(), || {
                    p("StatisticalValueAmount")
                });
                let gm = c.and_then(|c| c.goods_measure.as_ref());
                t.see(gm.is_some_and(|m| m.net_net_weight_measure.is_some()), || {
                    p("Commodity.GoodsMeasure.NetNetWeightMeasure")
                });
                t.see(gm.is_some_and(|m| m.gross_mass_measure.is_some()), || {
                    p("Commodity.GoodsMeasure.GrossMassMeasure")
                });
                t.see(item.customs_valuation.as_ref().is_some_and(|v| v.method_code.is_some()), || {
                    p("CustomsValuation.MethodCode")
                });
                t.see(!item.government_procedure.is_empty(), || p("GovernmentProcedure"));
                t.see(!item.packaging.is_empty(), || p("Packaging"));
            }
        }
        Record::AeoAuthorization(r) => {
            t.see(r.additional_document.as_ref().is_some_and(|d| d.id.is_some()), || "$.AdditionalDocument.ID".into());
            t.see(r.additional_document.as_ref().is_some_and(|d| d.effective_date_time.is_some()), || {
                "$.AdditionalDocument.EffectiveDateTime".into()
            });
            t.see(r.ext.holder.address.is_some(), || "$.ext.holder.Address".into());
            t.see(!r.ext.mra_partner_programmes.is_empty(), || "$.ext.mraPartnerProgrammes".into());
            t.see(!r.ext.status_history.is_empty(), || "$.ext.statusHistory".into());
        }
        Record::TransportMovement(r) => {
            let c = &r.consignment;
            t.see(r.border_transport_means.is_some(), || "$.BorderTransportMeans".into());
            t.see(c.carrier.is_some(), || "$.Consignment.Carrier".into());
            t.see(c.loading_location.is_some(), || "$.Consignment.LoadingLocation".into());
            t.see(c.goods_location.is_some(), || "$.Consignment.GoodsLocation".into());
            t.see(!c.itinerary.is_empty(), || "$.Consignment.Itinerary".into());
            t.see(!c.transport_equipment.is_empty(), || "$.Consignment.TransportEquipment".into());
            t.see(c.ext.as_ref().is_some_and(|e| !e.declaration_refs.is_empty()), || {
                "$.Consignment.ext.declarationRefs".into()
            });
        }
        Record::InspectionResult(r) => {
            t.see(r.declaration.id.is_some() || r.declaration.functional_reference_id.is_some(), || {
                "$.Declaration.ID".into()
            });
            t.see(r.declaration.declaration_office_id.is_some(), || "$.Declaration.DeclarationOfficeID".into());
            t.see(
                !r.inspection.findings.is_empty() || r.inspection.outcome == crate::records::InspectionOutcome::Conform,
                || "$.Inspection.findings".into(),
            );
        }
        // A consent has no optional element whose absence makes it less useful: an empty
        // partner list is a choice (every partner), not a gap.
        Record::AeoConsent(_) => {}
    }
    let score = if t.expected == 0 { 1.0 } else { t.present as f64 / t.expected as f64 };
    Quality { score: (score * 1000.0).round() / 1000.0, present: t.present, expected: t.expected, missing: t.missing }
}
