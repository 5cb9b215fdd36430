//! The one error type of the function: a refusal with a stable wire code and a message
//! that is safe to show the caller, plus detail (AWS error text) that only the log sees.

use crate::aws::AwsError;
use route53_ddns_protocol::ErrorCode;

/// Why a request was not carried out. Callers match on `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    /// Shown to the caller: never secrets, never AWS error text.
    pub message: String,
    /// For the log line only (e.g. the AWS error code and message).
    pub detail: Option<String>,
    /// Seconds the caller should wait (429/503).
    pub retry_after: Option<u64>,
    /// The sender is proven (a valid signature of a key that is or was registered, or a
    /// valid token): its refusals can be the owner's business (`metrics::permanent`).
    pub proven: bool,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let retry_after = match code {
            ErrorCode::Throttled => Some(2),
            ErrorCode::Unavailable => Some(5),
            _ => None,
        };
        Error {
            code,
            message: message.into(),
            detail: None,
            retry_after,
            proven: false,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Marks the sender proven.
    pub fn proven(mut self) -> Self {
        self.proven = true;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// An AWS call of `what` ("Route53", "the registry") failed for good.
    pub fn aws(what: &str, e: AwsError) -> Self {
        match e {
            AwsError::Throttled => Error::new(
                ErrorCode::Throttled,
                format!("{what} is throttling requests; retry later"),
            ),
            AwsError::Busy(m) => Error::new(
                ErrorCode::Unavailable,
                format!("{what} is unavailable; retry later"),
            )
            .with_detail(m),
            AwsError::Unrecognised(m) => Error::new(
                ErrorCode::Unavailable,
                format!("{what} answered in a form this function does not recognise; retry later"),
            )
            .with_detail(m),
            AwsError::Rejected { code, message } if is_access_denied(&code) => Error::new(
                ErrorCode::NotPermitted,
                format!("the deployment's permissions do not allow this change in {what}"),
            )
            .with_detail(format!("{code}: {message}")),
            AwsError::Rejected { code, message } => {
                Error::new(ErrorCode::Internal, format!("{what} refused the request"))
                    .with_detail(format!("{code}: {message}"))
            }
            AwsError::Fault(m) => Error::new(
                ErrorCode::Internal,
                format!("the function could not call {what}"),
            )
            .with_detail(m),
        }
    }

    /// The dyndns2 answer for this error (the text protocol has no codes of its own for most).
    pub fn dyndns2_answer(&self) -> &'static str {
        match self.code {
            ErrorCode::BadSignature => "badauth",
            ErrorCode::Malformed | ErrorCode::TooLarge => "notfqdn",
            ErrorCode::NameNotAllowed | ErrorCode::NotPermitted | ErrorCode::RegistryInvalid => {
                "nohost"
            }
            ErrorCode::Replayed | ErrorCode::Superseded => "nochg",
            _ => "911",
        }
    }
}

fn is_access_denied(code: &str) -> bool {
    matches!(code, "AccessDenied" | "AccessDeniedException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_text_never_reaches_the_message() {
        let e = Error::aws(
            "Route53",
            AwsError::Rejected {
                code: "AccessDenied".into(),
                message: "User: arn:aws:sts::123456789012:assumed-role/r is not authorized".into(),
            },
        );
        assert_eq!(e.code, ErrorCode::NotPermitted);
        assert!(!e.message.contains("123456789012"), "{}", e.message);
        assert!(e
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("123456789012")));
        let e = Error::aws(
            "Route53",
            AwsError::Rejected {
                code: "InvalidInput".into(),
                message: "arn:aws:iam::123456789012".into(),
            },
        );
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("arn:"));
        let e = Error::aws("SSM", AwsError::Busy("ssm at 10.0.0.1 unreachable".into()));
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(!e.message.contains("10.0.0.1"));
    }
}
