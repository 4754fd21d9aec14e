//! Format-neutral [`Node`]s into the typed [`Event`] model.
//!
//! Standard fields are the unqualified names of EPCIS 2.0 section 7 (XML puts them in no
//! namespace, JSON-LD writes them without a prefix); every qualified name is a user extension.
//! An unqualified name that is not a standard field is kept as an extension too, so that nothing
//! the document says is lost from the hash.

use super::model::{SENSOR_METADATA_FIELDS, SENSOR_REPORT_FIELDS};
use super::{
    EpcisError, ErrorDeclaration, Event, EventType, Extension, Location, Node, PersistentDisposition, QuantityElement,
    SensorElement, SensorFields, TypedReference,
};

struct Ctx {
    index: usize,
}

impl Ctx {
    fn err(&self, field: &str, message: impl Into<String>) -> EpcisError {
        EpcisError::Field { index: self.index, field: field.to_owned(), message: message.into() }
    }

    /// The text of a leaf element; a structured value where text is expected is an error.
    fn text(&self, node: &Node, path: &str) -> Result<Option<String>, EpcisError> {
        if node.children.is_empty() {
            Ok(node.value.clone().filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_owned()))
        } else {
            Err(self.err(path, "expected a text value, found a structure"))
        }
    }

    fn single(&self, slot: &mut Option<String>, node: &Node, path: &str) -> Result<(), EpcisError> {
        if slot.is_some() {
            return Err(self.err(path, "given more than once"));
        }
        *slot = self.text(node, path)?;
        Ok(())
    }

    fn epcs(&self, node: &Node, path: &str) -> Result<Vec<String>, EpcisError> {
        let mut out = Vec::with_capacity(node.children.len());
        for (i, item) in node.children.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if !is_standard(item, "epc") {
                return Err(self.err(&item_path, format!("expected `epc`, found `{}`", item.name)));
            }
            if let Some(v) = self.text(item, &item_path)? {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn quantities(&self, node: &Node, path: &str) -> Result<Vec<QuantityElement>, EpcisError> {
        let mut out = Vec::with_capacity(node.children.len());
        for (i, item) in node.children.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if !is_standard(item, "quantityElement") {
                return Err(self.err(&item_path, format!("expected `quantityElement`, found `{}`", item.name)));
            }
            let mut q = QuantityElement::default();
            let mut epc_class = None;
            for field in &item.children {
                match standard_name(field) {
                    Some("epcClass") => self.single(&mut epc_class, field, &format!("{item_path}.epcClass"))?,
                    Some("quantity") => self.single(&mut q.quantity, field, &format!("{item_path}.quantity"))?,
                    Some("uom") => self.single(&mut q.uom, field, &format!("{item_path}.uom"))?,
                    _ => q.extensions.push(extension(field)),
                }
            }
            q.epc_class = epc_class.ok_or_else(|| self.err(&item_path, "missing `epcClass`"))?;
            out.push(q);
        }
        Ok(out)
    }

    fn location(&self, node: &Node, path: &str) -> Result<Location, EpcisError> {
        let mut loc = Location::default();
        for field in &node.children {
            match standard_name(field) {
                Some("id") => self.single(&mut loc.id, field, &format!("{path}.id"))?,
                _ => loc.extensions.push(extension(field)),
            }
        }
        Ok(loc)
    }

    /// `bizTransaction`, `source` or `destination` items: XML writes `<source type="…">id</source>`,
    /// JSON `{"type": "…", "source": "…"}`.
    fn references(&self, node: &Node, path: &str, item_name: &str) -> Result<Vec<TypedReference>, EpcisError> {
        let mut out = Vec::with_capacity(node.children.len());
        for (i, item) in node.children.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if !is_standard(item, item_name) {
                return Err(self.err(&item_path, format!("expected `{item_name}`, found `{}`", item.name)));
            }
            let mut kind = None;
            let mut value = item.value.clone().filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_owned());
            for field in &item.children {
                match standard_name(field) {
                    Some("type") => self.single(&mut kind, field, &format!("{item_path}.type"))?,
                    Some(n) if n == item_name => {
                        self.single(&mut value, field, &format!("{item_path}.{item_name}"))?;
                    }
                    _ => return Err(self.err(&item_path, format!("unexpected `{}`", field.name))),
                }
            }
            let value = value.ok_or_else(|| self.err(&item_path, format!("missing the `{item_name}` identifier")))?;
            out.push(TypedReference { kind, value });
        }
        Ok(out)
    }

    fn sensor_fields(&self, node: &Node, path: &str, known: &[&'static str]) -> Result<SensorFields, EpcisError> {
        let mut out = SensorFields::default();
        for field in &node.children {
            let std = standard_name(field).and_then(|n| known.iter().find(|k| **k == n));
            match std {
                Some(name) => {
                    if out.get(name).is_some() {
                        return Err(self.err(&format!("{path}.{name}"), "given more than once"));
                    }
                    if let Some(v) = self.text(field, &format!("{path}.{name}"))? {
                        out.fields.push((name, v));
                    }
                }
                None => out.extensions.push(extension(field)),
            }
        }
        // Keep the standard order whatever the document order was.
        out.fields.sort_by_key(|(n, _)| known.iter().position(|k| k == n));
        Ok(out)
    }

    fn sensor_elements(&self, node: &Node, path: &str) -> Result<Vec<SensorElement>, EpcisError> {
        let mut out = Vec::with_capacity(node.children.len());
        for (i, item) in node.children.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if !is_standard(item, "sensorElement") {
                return Err(self.err(&item_path, format!("expected `sensorElement`, found `{}`", item.name)));
            }
            let mut element = SensorElement::default();
            for field in &item.children {
                match standard_name(field) {
                    Some("sensorMetadata") => {
                        let p = format!("{item_path}.sensorMetadata");
                        if element.metadata.is_some() {
                            return Err(self.err(&p, "given more than once"));
                        }
                        element.metadata = Some(self.sensor_fields(field, &p, &SENSOR_METADATA_FIELDS)?);
                    }
                    Some("sensorReport") => {
                        let p = format!("{item_path}.sensorReport[{}]", element.reports.len());
                        element.reports.push(self.sensor_fields(field, &p, &SENSOR_REPORT_FIELDS)?);
                    }
                    _ => element.extensions.push(extension(field)),
                }
            }
            out.push(element);
        }
        Ok(out)
    }

    fn error_declaration(&self, node: &Node) -> Result<ErrorDeclaration, EpcisError> {
        let mut out = ErrorDeclaration::default();
        for field in &node.children {
            match standard_name(field) {
                Some("declarationTime") => {
                    self.single(&mut out.declaration_time, field, "errorDeclaration.declarationTime")?;
                }
                Some("reason") => self.single(&mut out.reason, field, "errorDeclaration.reason")?,
                Some("correctiveEventIDs") => {
                    for (i, id) in field.children.iter().enumerate() {
                        if let Some(v) = self.text(id, &format!("errorDeclaration.correctiveEventIDs[{i}]"))? {
                            out.corrective_event_ids.push(v);
                        }
                    }
                }
                _ => out.extensions.push(extension(field)),
            }
        }
        Ok(out)
    }
}

fn standard_name(node: &Node) -> Option<&str> {
    node.name.namespace.is_none().then_some(node.name.local.as_str())
}

fn is_standard(node: &Node, name: &str) -> bool {
    standard_name(node) == Some(name)
}

/// A node as a user extension, whole.
pub(crate) fn extension(node: &Node) -> Extension {
    Extension {
        name: node.name.clone(),
        value: node.value.clone(),
        children: node.children.iter().map(extension).collect(),
    }
}

pub(crate) fn event(index: usize, type_name: &str, node: Node) -> Result<Event, EpcisError> {
    let event_type = EventType::from_name(type_name)
        .ok_or_else(|| EpcisError::UnknownEventType { index, found: type_name.to_owned() })?;
    let cx = Ctx { index };
    let mut e = Event::new(event_type);
    for field in &node.children {
        let Some(name) = standard_name(field) else {
            e.extensions.push(extension(field));
            continue;
        };
        match name {
            "eventTime" => cx.single(&mut e.event_time, field, name)?,
            "eventTimeZoneOffset" => cx.single(&mut e.event_time_zone_offset, field, name)?,
            "recordTime" => cx.single(&mut e.record_time, field, name)?,
            "eventID" => cx.single(&mut e.event_id, field, name)?,
            "errorDeclaration" => e.error_declaration = Some(cx.error_declaration(field)?),
            "certificationInfo" => {
                if let Some(v) = cx.text(field, name)? {
                    e.certification_info.push(v);
                }
            }
            "parentID" => cx.single(&mut e.parent_id, field, name)?,
            "epcList" => e.epc_list.extend(cx.epcs(field, name)?),
            "childEPCs" => e.child_epcs.extend(cx.epcs(field, name)?),
            "inputEPCList" => e.input_epc_list.extend(cx.epcs(field, name)?),
            "outputEPCList" => e.output_epc_list.extend(cx.epcs(field, name)?),
            "quantityList" => e.quantity_list.extend(cx.quantities(field, name)?),
            "childQuantityList" => e.child_quantity_list.extend(cx.quantities(field, name)?),
            "inputQuantityList" => e.input_quantity_list.extend(cx.quantities(field, name)?),
            "outputQuantityList" => e.output_quantity_list.extend(cx.quantities(field, name)?),
            "action" => cx.single(&mut e.action, field, name)?,
            "transformationID" => cx.single(&mut e.transformation_id, field, name)?,
            "bizStep" => cx.single(&mut e.biz_step, field, name)?,
            "disposition" => cx.single(&mut e.disposition, field, name)?,
            "persistentDisposition" => {
                let pd = e.persistent_disposition.get_or_insert_with(PersistentDisposition::default);
                for item in &field.children {
                    let path = format!("persistentDisposition.{}", item.name);
                    match standard_name(item) {
                        Some("set") => pd.set.extend(cx.text(item, &path)?),
                        Some("unset") => pd.unset.extend(cx.text(item, &path)?),
                        _ => return Err(cx.err(&path, "expected `set` or `unset`")),
                    }
                }
            }
            "readPoint" => {
                if e.read_point.is_some() {
                    return Err(cx.err(name, "given more than once"));
                }
                e.read_point = Some(cx.location(field, name)?);
            }
            "bizLocation" => {
                if e.biz_location.is_some() {
                    return Err(cx.err(name, "given more than once"));
                }
                e.biz_location = Some(cx.location(field, name)?);
            }
            "bizTransactionList" => e.biz_transaction_list.extend(cx.references(field, name, "bizTransaction")?),
            "sourceList" => e.source_list.extend(cx.references(field, name, "source")?),
            "destinationList" => e.destination_list.extend(cx.references(field, name, "destination")?),
            "sensorElementList" => e.sensor_element_list.extend(cx.sensor_elements(field, name)?),
            "ilmd" => e.ilmd.get_or_insert_with(Vec::new).extend(field.children.iter().map(extension)),
            _ => e.extensions.push(extension(field)),
        }
    }
    Ok(e)
}
