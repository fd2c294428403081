//! The view layer: how each stored resource is rendered as API JSON, one
//! place per view (links render in `edgelink_core::link`, stats in
//! `edgelink_core::stats`, both pure and unit-tested there). Handlers call
//! these; stores only read and write rows.

use edgelink_core::domains::{record_name, record_value};
use edgelink_core::time::format_rfc3339;
use serde_json::{json, Value};

use crate::store::domains::Domain;
use crate::store::galleries::{Gallery, Item};
use crate::store::groups::Group;
use crate::store::keys::ApiKey;
use crate::store::webhooks::{Delivery, Webhook};
use crate::store::workspaces::Workspace;

impl Group {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "description": self.description,
            "linkCount": self.link_count,
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        })
    }
}

impl Domain {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "domain": self.domain,
            "verified": self.verified.is_verified(),
            "verifiedAt": self.verified_at.map(format_rfc3339),
            "linkCount": self.link_count,
            "createdAt": format_rfc3339(self.created_at),
            "verification": {
                "type": "TXT",
                "name": record_name(&self.domain),
                "value": record_value(&self.verification_token),
            },
        })
    }
}

impl Workspace {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "plan": self.plan,
            "linkQuota": self.link_quota(),
            "createdAt": edgelink_core::time::format_rfc3339(self.created_at),
        })
    }
}

impl ApiKey {
    pub fn to_json(&self) -> Value {
        use edgelink_core::time::format_rfc3339;
        json!({
            "id": self.id, "name": self.name, "prefix": self.prefix,
            "scopes": self.scope.scopes(), "scope": self.scope,
            "createdAt": format_rfc3339(self.created_at),
            "lastUsedAt": self.last_used_at.map(format_rfc3339),
        })
    }
}

impl Gallery {
    /// `items` in page order; `page_url` is where it is (or would be) served.
    pub fn to_json(&self, page_url: &str, items: &[Item]) -> Value {
        json!({
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "bio": self.bio,
            "avatarUrl": self.avatar_url,
            "theme": self.theme,
            "customCss": self.custom_css,
            "isPublished": self.is_published != 0,
            "url": page_url,
            "items": items.iter().map(Item::to_json).collect::<Vec<_>>(),
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        })
    }
}

impl Item {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "title": self.title,
            "url": self.url,
            "imageUrl": self.image_url,
            "embedType": self.embed_type,
            "embedData": self.embed_data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
            "position": self.position,
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        })
    }
}

impl Webhook {
    /// The API shape; the secret only when it is issued (create, rotate).
    pub fn to_json(&self, with_secret: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "events": self.event_list(),
            "isActive": self.is_active != 0,
            "disabledReason": self.disabled_reason,
            "previousSecretExpiresAt": self.previous_secret_expires_at.map(format_rfc3339),
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        });
        if with_secret {
            v["secret"] = json!(self.secret);
        }
        v
    }
}

impl Delivery {
    pub fn to_json(&self, with_payload: bool) -> Value {
        let t = |v: Option<i64>| v.map(format_rfc3339);
        let mut v = json!({
            "id": self.id,
            "webhookId": self.webhook_id,
            "event": self.event,
            "eventId": self.event_id,
            "status": self.status,
            "attempts": self.attempts,
            "lastStatusCode": self.last_status_code,
            "lastError": self.last_error,
            "lastDurationMs": self.last_duration_ms,
            "lastAttemptAt": t(self.last_attempt_at),
            "nextAttemptAt": if self.status == "pending" { t(self.next_attempt_at) } else { None },
            "deliveredAt": t(self.delivered_at),
            "createdAt": format_rfc3339(self.created_at),
        });
        if with_payload {
            v["payload"] = serde_json::from_str(&self.payload).unwrap_or(Value::Null);
            v["lastResponse"] = json!(self.last_response);
        }
        v
    }
}
