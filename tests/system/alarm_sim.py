"""A model of what CloudWatch does with the function's log lines and the template's alarms,
to run silence and heartbeats through in simulated time.

- `extract(line)`: the embedded-metric-format rules CloudWatch Logs applies to one log line
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
  an `_aws` member with an integer `Timestamp` and `CloudWatchMetrics` directives, each with
  a `Namespace`, `Dimensions` (lists of names of root string members) and `Metrics` (names of
  root numeric members). A line that breaks a rule yields no metric at all (EmfError).
- `Alarm`: a metric alarm as the template defines it (parameters resolved), evaluated the way
  CloudWatch documents it: periods aligned to the clock, the statistic per period, missing
  periods treated per TreatMissingData, ALARM when DatapointsToAlarm of the last
  EvaluationPeriods periods breach.

It leaves out what does not change the outcome here: evaluation delay, metric retention,
and INSUFFICIENT_DATA for TreatMissingData=missing (treated as "not breaching").
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass


class EmfError(ValueError):
    pass


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    dimensions: tuple  # sorted (name, value) pairs
    metric: str
    value: float
    time_ms: int


def extract(line: str) -> list[Datapoint]:
    doc = json.loads(line)
    if not isinstance(doc, dict) or "_aws" not in doc:
        raise EmfError("no _aws member")
    meta = doc["_aws"]
    ts = meta.get("Timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise EmfError("_aws.Timestamp must be an integer of Unix milliseconds")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        raise EmfError("_aws.CloudWatchMetrics must be a non-empty list")
    out = []
    for d in directives:
        ns = d.get("Namespace")
        if not isinstance(ns, str) or not ns:
            raise EmfError("Namespace must be a string")
        dim_sets = d.get("Dimensions")
        if not isinstance(dim_sets, list):
            raise EmfError("Dimensions must be a list of lists")
        metrics = d.get("Metrics")
        if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
            raise EmfError("Metrics must list 1 to 100 metrics")
        for dims in dim_sets:
            if not isinstance(dims, list) or len(dims) > 30:
                raise EmfError("each dimension set is a list of at most 30 names")
            pairs = []
            for name in dims:
                value = doc.get(name)
                if not isinstance(value, str) or not value:
                    raise EmfError(f"dimension {name!r} is not a string member at the root")
                pairs.append((name, value))
            for m in metrics:
                name = m.get("Name")
                value = doc.get(name)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise EmfError(f"metric {name!r} is not a number at the root")
                out.append(Datapoint(ns, tuple(sorted(pairs)), name, float(value), ts))
    return out


OPERATORS = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def resolve(value, parameters: dict, refs: dict):
    """A property value with Ref resolved: parameters (given or default), then `refs`."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        if name in refs:
            return refs[name]
        return parameters[name]
    return value


@dataclass
class Alarm:
    namespace: str
    metric: str
    dimensions: tuple
    statistic: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str

    @classmethod
    def from_template(cls, template: dict, logical_id: str, overrides: dict | None = None,
                      refs: dict | None = None) -> "Alarm":
        params = {k: v.get("Default") for k, v in template["Parameters"].items()}
        params.update(overrides or {})
        p = template["Resources"][logical_id]["Properties"]

        def r(key, default=None):
            return resolve(p.get(key, default), params, refs or {})

        dims = tuple(sorted((d["Name"], resolve(d["Value"], params, refs or {})) for d in p["Dimensions"]))
        evaluation = int(r("EvaluationPeriods"))
        return cls(
            namespace=p["Namespace"], metric=p["MetricName"], dimensions=dims,
            statistic=p["Statistic"], period_s=int(p["Period"]),
            evaluation_periods=evaluation,
            datapoints_to_alarm=int(r("DatapointsToAlarm", evaluation)),
            threshold=float(p["Threshold"]), comparison=p["ComparisonOperator"],
            treat_missing=p.get("TreatMissingData", "missing"),
        )

    def _stat(self, values: list[float]) -> float:
        if self.statistic == "Sum":
            return sum(values)
        if self.statistic == "SampleCount":
            return float(len(values))
        if self.statistic == "Maximum":
            return max(values)
        if self.statistic == "Minimum":
            return min(values)
        if self.statistic == "Average":
            return sum(values) / len(values)
        raise ValueError(self.statistic)

    def state(self, points: list[Datapoint], now_ms: int) -> str:
        """ALARM or OK at `now_ms`, over the last complete periods."""
        period_ms = self.period_s * 1000
        current = now_ms // period_ms
        mine = [p for p in points if p.namespace == self.namespace and p.metric == self.metric
                and p.dimensions == self.dimensions and p.time_ms < current * period_ms]
        buckets: dict[int, list[float]] = {}
        for p in mine:
            buckets.setdefault(p.time_ms // period_ms, []).append(p.value)
        breaching = 0
        compare = OPERATORS[self.comparison]
        for b in range(current - self.evaluation_periods, current):
            if b in buckets:
                breaching += compare(self._stat(buckets[b]), self.threshold)
            elif self.treat_missing == "breaching":
                breaching += 1
        return "ALARM" if breaching >= self.datapoints_to_alarm else "OK"


def restamp(line: str, time_ms: int) -> str:
    """The same log line, written at another time (what the function would write then)."""
    doc = json.loads(line)
    doc["_aws"]["Timestamp"] = time_ms
    return json.dumps(doc)


def episodes(alarm: Alarm, points: list[Datapoint], start_ms: int, end_ms: int,
             step_ms: int = 60_000) -> list[tuple[int, int]]:
    """The (first, last) evaluation times of each stretch in ALARM, evaluated every step."""
    out: list[tuple[int, int]] = []
    for t in range(start_ms, end_ms, step_ms):
        if alarm.state(points, t) != "ALARM":
            continue
        if out and out[-1][1] == t - step_ms:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out
