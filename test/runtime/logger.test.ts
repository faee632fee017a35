import { createLogger, describeError } from '../../runtime/logger';

describe('createLogger', () => {
  it('writes one JSON object per line with the time, level, message and fields', () => {
    // Prepare
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));

    // Act
    logger.warn('Firehose call failed', { stream: 's1', records: 3 });

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
      level: 'warn',
      message: 'Firehose call failed',
      stream: 's1',
      records: 3,
    });
  });

  it('writes nothing less severe than its level', () => {
    // Prepare
    const levels: string[] = [];
    const logger = createLogger('warn', (line) => levels.push((JSON.parse(line) as { level: string }).level));

    // Act
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');

    // Assess
    expect(levels).toEqual(['warn', 'error']);
  });
});

describe('describeError', () => {
  it("gives an error's name and message", () => {
    // Act
    const described = describeError(new TypeError('Cannot read properties of undefined'));

    // Assess
    expect(described).toEqual({
      errorName: 'TypeError',
      errorMessage: 'Cannot read properties of undefined',
    });
  });

  it('gives a thrown value that is not an error as its text', () => {
    // Act
    const described = describeError('EIO');

    // Assess
    expect(described).toEqual({ errorName: 'Error', errorMessage: 'EIO' });
  });
});
