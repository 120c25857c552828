// Stand-in for `k6/metrics`: every add() is recorded under the metric's name.
class Metric {
  constructor(type, name) {
    this.name = name;
    globalThis.fakeK6.metrics[name] = { type, samples: [] };
  }

  add(value, tags) {
    globalThis.fakeK6.metrics[this.name].samples.push({ value: Number(value), tags: tags ?? {} });
  }
}

export class Counter extends Metric {
  constructor(name) {
    super('counter', name);
  }
}

export class Gauge extends Metric {
  constructor(name) {
    super('gauge', name);
  }
}

export class Trend extends Metric {
  constructor(name) {
    super('trend', name);
  }
}

export class Rate extends Metric {
  constructor(name) {
    super('rate', name);
  }
}
