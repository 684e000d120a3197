import { describe, expect, it } from 'vitest';
import * as ltx from 'ltx';
import { Element, parse, xml } from '@xmppkit/xml';

// Our Element must behave as ltx's Element does (xmpp.js code calls these methods): every test runs the same
// calls on a tree of ours and on the same tree of ltx's, and compares what they give.
type E = typeof Element;
const Ltx = ltx.Element as unknown as E;

/** Where an element sits (its names up to the root) and its XML, so that elements of both kinds compare. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && 'children' in value) {
    const names: string[] = [];
    for (let el = value as Element | null; el; el = el.parent) names.unshift(el.name);
    return `${names.join('/')} ${Ltx.prototype.toString.call(value)}`;
  }
  return value;
}

/** A stream with a message in it: prefixes, inherited and overridden namespaces, text between elements. */
function tree(C: E) {
  const root = new C('stream:stream', { 'xmlns:stream': 'http://etherx.jabber.org/streams', xmlns: 'jabber:client', 'xmlns:foo': 'urn:foo' });
  const message = root.c('message', { to: 'a@b', type: 'chat', 'foo:x': '1', id: 'm1' });
  message.c('body').t('hi & <bye>');
  message.t('tail');
  const data = message.c('foo:data', { id: 'd1' });
  data.c('item', { id: 'i1' }).up().c('item', { id: 'i2', xmlns: 'urn:bar' }).t('x').t('y');
  data.c('foo:item', { id: 'i1' });
  message.c('thread', 'urn:thread').t('t1');
  message.c('body', 'urn:other').t('other');
  return { root, message, data };
}

/** `call` on our tree and on ltx's, compared. */
function same(call: (t: ReturnType<typeof tree>, C: E) => unknown): void {
  const ours = call(tree(Element), Element);
  expect(plain(ours)).toEqual(plain(call(tree(Ltx), Ltx)));
}

describe('Element, compared with ltx', () => {
  it('is(), getName(), getNS() and findNS(), with prefixes and inherited namespaces', () => {
    same(({ message }) => [message.is('message'), message.is('message', 'jabber:client'), message.is('message', 'urn:x'), message.is('msg')]);
    same(({ data }) => [data.is('data', 'urn:foo'), data.is('foo:data'), data.is('data', 'jabber:client'), data.getName(), data.getNS()]);
    same(({ root }) => [root.getName(), root.getNS(), root.findNS(), root.findNS('stream'), root.findNS('foo'), root.findNS('none')]);
    same(({ data }) => data.children.map((c) => (typeof c === 'object' ? [c.getName(), c.getNS(), c.findNS(), c.findNS('foo'), c.findNS('x')] : c)));
    same((_, C) => [new C(':odd').getName(), new C(':odd', 'urn:o').getNS(), new C('a:b:c').getName(), new C('a:b:c').is('c'), new C('p:x').getNS()]);
    expect([new Element(':odd').getName(), new Element(':odd', 'urn:o').getNS(), new Element('p:x').getNS()]).toEqual(['odd', 'urn:o', undefined]);
  });

  it('getXmlns() and getAttr() with and without a namespace', () => {
    same(({ data }) => (data.children[1] as Element).getXmlns());
    same(({ message }) => [message.getAttr('to'), message.getAttr('x', 'urn:foo'), message.getAttr('x', 'urn:unbound'), message.getAttr('to', 'jabber:client'), message.getAttr('none')]);
    expect(tree(Element).message.getAttr('x', 'urn:unbound')).toBeNull(); // as ltx: null, not undefined
  });

  it('getChild(), getChildren(), getChildElements(), getText() and getChildText()', () => {
    same(({ message }) => [message.getChild('body'), message.getChild('body', 'urn:other'), message.getChild('data', 'urn:foo'), message.getChild('none')]);
    same(({ data }) => [data.getChildren('item'), data.getChildren('item', 'urn:bar'), data.getChildren('item', 'urn:foo'), data.getChildren('none')]);
    same(({ message, data }) => [message.getChildElements(), data.getChildElements()]);
    same(({ message, data }) => [message.getText(), data.getChild('item', 'urn:bar')?.getText(), message.getChildText('body'), message.getChildText('body', 'urn:other'), message.getChildText('none')]);
    same(({ message }) => message.t(5 as unknown as string).getText()); // numbers are text too
  });

  it('getChildByAttr(), getChildrenByAttr() and getChildrenByFilter(), flat and recursive', () => {
    same(({ root }) => [root.getChildByAttr('id', 'i2'), root.getChildByAttr('id', 'i2', undefined, true), root.getChildByAttr('id', 'm1')]);
    same(({ root }) => [root.getChildrenByAttr('id', 'i1', undefined, true), root.getChildrenByAttr('id', 'i1', 'urn:foo', true), root.getChildrenByAttr('id', 'i1')]);
    same(({ message }) => [message.getChildrenByAttr('id', 'd1'), message.getChildrenByAttr('id', 'd1', 'jabber:client'), message.getChildrenByAttr('xmlns', 'urn:thread')]);
    same(({ root }) => [root.getChildrenByFilter((c) => typeof c === 'string', true), root.getChildrenByFilter((c) => typeof c === 'string')]);
    same(({ root }) => root.getChildrenByFilter((c) => typeof c === 'object' && c.name === 'item', true));
  });

  it('root(), tree(), up(), c(), cnode(), t(), append() and prepend()', () => {
    same(({ root, data }) => [(data.children[0] as Element).root(), (data.children[0] as Element).tree(), data.up(), root.up(), root.root()]);
    same(({ root }) => root.c('a', { n: 1 }).c('b', 'urn:b').up().t('text').c('c').root());
    same(({ message }, C) => {
      const cnode = message.cnode(new C('x'));
      message.append('one', new C('y'), 'two');
      message.prepend('first', new C('z'));
      return [cnode.parent?.name, message.children, message.children.map((c) => (typeof c === 'object' ? c.parent?.name : c))];
    });
    const el = new Element('a');
    const child = new Element('b');
    expect(el.cnode(child)).toBe(child);
    expect(el.appendChild('text')).toBe('text');
    expect(child.parent).toBe(el);
  });

  it('remove() by name, by name and namespace, and by element; text nodes stay', () => {
    same(({ message }) => message.remove('body').children);
    same(({ message }) => message.remove('body', 'urn:other').children);
    same(({ message }) => message.remove('tail').remove('data').children); // 'tail' is text, not an element: kept
    same(({ data }) => data.remove(data.children[1] as Element).children);
    same(({ message }) => message.remove('thread', 'urn:none').children);
  });

  it('text() as getter and as setter, attr() as getter and setter', () => {
    same(({ message }) => [message.getChild('body')?.text(), message.text()]);
    same(({ message }) => [plain(message.getChild('body')?.text('new')), message.getChildText('body')]); // one child: replaced
    same(({ message }) => [message.text('ignored'), message.children.length]); // several children: a getter
    same((_, C) => [new C('e').text('ignored'), new C('e').t('x').text(''), new C('e').t('x').text()]);
    same(({ message }) => [message.attr('to'), plain(message.attr('to', 'c@d')), message.attr('to'), plain(message.attr('type', null)), message.attrs]);
    same(({ message }) => [message.attr('to', undefined), message.attrs.to]); // undefined: a getter
  });

  it('setAttrs() and the constructor copy attributes; a string is the namespace', () => {
    const attrs = { a: '1' };
    same((_, C) => {
      const el = new C('e', attrs);
      el.setAttrs({ b: '2' });
      el.setAttrs('urn:e');
      el.setAttrs(undefined);
      return [el.attrs, el.attrs === attrs, attrs, new C('n', 'urn:n').attrs, new C('n').attrs];
    });
  });

  it('toString() and write() give the same XML', () => {
    same(({ root }) => root.toString());
    same(({ root }) => {
      let out = '';
      root.write((part) => (out += part));
      return out;
    });
  });
});

describe('Element', () => {
  it('is what xml(), c() and the parser make', () => {
    const parsed = parse(`<a xmlns='urn:a'><b/>text<c><d/></c></a>`);
    expect(parsed).toBeInstanceOf(Element);
    expect(parsed.getChildElements().every((c) => c instanceof Element)).toBe(true);
    expect(parsed.getChild('c')?.getChild('d')).toBeInstanceOf(Element);
    expect(xml('a', {}, xml('b')).c('x')).toBeInstanceOf(Element);
    expect(new Element('a', { x: '1' }).attrs).toEqual({ x: '1' });
  });

  it('serialises ltx elements among its children, and ltx serialises ours', () => {
    const foreign = new ltx.Element('f', { q: '"' }).t('<');
    const el = xml('a', {}, foreign as unknown as Element);
    expect(el.toString()).toBe('<a><f q="&quot;">&lt;</f></a>');
    expect(new ltx.Element('l').cnode(xml('b', { x: '&' }, 'y>') as unknown as ltx.Element).root().toString()).toBe('<l><b x="&amp;">y&gt;</b></l>');
  });

  it('getChildElements() includes ltx elements among its children, as ltx does', () => {
    const foreign = new ltx.Element('f');
    const el = xml('a', {}, 'text', foreign as unknown as Element, xml('b'));
    expect(el.getChildElements().map((c) => c.name)).toEqual(['f', 'b']);
    expect(el.getChildElements()[0]).toBe(foreign);
  });
});
