import { joinText, logicalId, synth } from './app-fixture';

interface Widget {
  readonly type: string;
  readonly properties: { readonly title: string; readonly metrics?: unknown[][]; readonly alarms?: string[] };
}

/** The dashboard's widgets, references written as `recipeOf` markers (`<Ref:Logical>`). */
function widgetsOf(template: ReturnType<typeof synth>['template']): Widget[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return (JSON.parse(joinText(dashboard.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
}

/** Each graphed metric as `namespace metric dimension=value`, or a search expression as it is. */
function graphed(widgets: readonly Widget[]): string[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((line) =>
      typeof line[0] === 'string'
        ? `${line[0]} ${line[1] as string} ${line[2] as string}=${line[3] as string}`
        : (line[0] as { expression: string }).expression,
    ),
  );
}

describe('the dashboard', () => {
  test('is named after the stack and its region, dashboards being global to an account, and in the outputs', () => {
    // Act
    const { stack, template } = synth({ stackName: 'FirehoseConnectorStaging' });

    // Assess
    const name = { 'Fn::Join': ['-', ['FirehoseConnectorStaging', { Ref: 'AWS::Region' }]] };
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: name });
    template.hasOutput('DashboardName', { Value: { Ref: logicalId(stack, stack.dashboard.dashboard) } });
  });

  test("shows the stream's own Firehose metrics: incoming records and bytes, throttled records, S3 delivery success and freshness", () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const stream = `DeliveryStreamName=<Ref:${logicalId(stack, stack.pipeline.deliveryStream)}>`;
    expect(graphed(widgetsOf(template))).toEqual(
      expect.arrayContaining(
        [
          'IncomingRecords',
          'IncomingBytes',
          'ThrottledRecords',
          'DeliveryToS3.Success',
          'DeliveryToS3.DataFreshness',
        ].map((metric) => `AWS/Firehose ${metric} ${stream}`),
      ),
    );
  });

  test("shows the connector's metrics, added up over the devices, from its namespace, with rejections by reason", () => {
    // Act
    const { stack, template } = synth({ metricsNamespace: 'Fleet/Firehose' });

    // Assess
    const streamRef = `<Ref:${logicalId(stack, stack.pipeline.deliveryStream)}>`;
    const metrics = graphed(widgetsOf(template));
    expect(metrics).toEqual(
      expect.arrayContaining(
        [
          'MessagesReceived',
          'MessagesDelivered',
          'FirehoseCalls',
          'FirehoseRecords',
          'BilledBytes',
          'MessagesFailed',
          'MessagesDropped',
          'MessagesRetried',
          'RecordsThrottled',
          'QueueDepth',
          'OldestRecordAge',
        ].map((metric) => `Fleet/Firehose ${metric} DeliveryStream=${streamRef}`),
      ),
    );
    expect(metrics).toContain(
      `SEARCH('{"Fleet/Firehose",DeliveryStream,Reason} MetricName="MessagesRejected" DeliveryStream="${streamRef}"', 'Sum', 300)`,
    );
  });

  test("shows only the stream's own metrics when the devices send none", () => {
    // Act
    const { template } = synth({ metrics: 'false' });

    // Assess
    const metrics = graphed(widgetsOf(template));
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.filter((metric) => !metric.startsWith('AWS/Firehose '))).toEqual([]);
  });

  test('shows the state of the four alarms at the top', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const [first] = widgetsOf(template);
    expect(first.type).toBe('alarm');
    expect(first.properties.alarms).toEqual(
      stack.alarms.alarms.map((alarm) => `<GetAtt:${logicalId(stack, alarm)}.Arn>`),
    );
  });
});
