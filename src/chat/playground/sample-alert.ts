// The playground's "send sample alert" button: a real Alertmanager v4 payload, fired at the real
// webhook route with the playground source's token.
export interface SampleOccurrence {
  startsAt: string;
}

export function sampleAlertmanagerPayload(status: 'firing' | 'resolved', occurrence: SampleOccurrence, now: Date) {
  const labels = {
    alertname: 'HighErrorRate',
    service: 'checkout',
    namespace: 'shop',
    severity: 'critical',
    instance: 'checkout-7d9f8:8080',
  };
  return {
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status,
    receiver: 'tacit',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: labels,
    commonAnnotations: {
      summary: 'Checkout error rate above 5%',
      description: '7.2% of checkout requests failed over the last 5 minutes.',
      runbook_url: 'https://runbooks.example.com/checkout/high-error-rate',
    },
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status,
        labels,
        annotations: {
          summary: 'Checkout error rate above 5%',
          description: '7.2% of checkout requests failed over the last 5 minutes.',
          runbook_url: 'https://runbooks.example.com/checkout/high-error-rate',
        },
        startsAt: occurrence.startsAt,
        endsAt: status === 'resolved' ? now.toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=job%3Acheckout_errors%3Arate5m+%3E+0.05',
        fingerprint: 'b2f1c3d4e5a60718',
      },
    ],
  };
}
