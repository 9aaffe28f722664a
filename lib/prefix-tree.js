'use strict';
// The wildcard half of the legacy path's topic index: subscribed prefixes
// in a radix tree, the twin of native/core/src/prefix_tree.cc (see there
// for why a tree). An event topic is matched against every prefix in one
// walk, O(topic length), allocating nothing; a tree of n prefixes has at
// most 2n nodes. Strings are compared by UTF-16 code unit: for the
// well-formed text topics are, a prefix by code units is a prefix by
// UTF-8 bytes, so both paths match the same topics.

class Node {
  constructor(edge, parent) {
    this.edge = edge; // the code units from the parent to here
    this.parent = parent;
    this.children = null; // Map: first code unit of the child's edge -> Node
    this.subscribers = null; // Set of connections, null when none
  }
}

function addChild(parent, child) {
  if (parent.children === null) parent.children = new Map();
  parent.children.set(child.edge.charCodeAt(0), child);
}

class PrefixTree {
  constructor() {
    this.root = new Node('', null); // the empty prefix ("*")
    this.nodes = 1;
  }

  // No prefix is subscribed: the index skips the walk altogether.
  get empty() {
    return this.root.children === null && this.root.subscribers === null;
  }

  // The node of `prefix`, created if absent. Existing nodes are never
  // replaced (a split puts a new one above), so a held node stays valid.
  insert(prefix) {
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const child = node.children === null ? undefined : node.children.get(prefix.charCodeAt(pos));
      if (child === undefined) {
        const leaf = new Node(prefix.slice(pos), node);
        addChild(node, leaf);
        this.nodes += 1;
        return leaf;
      }
      const edge = child.edge;
      const limit = Math.min(edge.length, prefix.length - pos);
      let common = 1;
      while (common < limit && edge.charCodeAt(common) === prefix.charCodeAt(pos + common)) common += 1;
      if (common === edge.length) {
        node = child;
        pos += common;
        continue;
      }
      // The prefix leaves (or ends inside) the child's edge: a branch point.
      const branch = new Node(edge.slice(0, common), node);
      node.children.set(edge.charCodeAt(0), branch);
      child.edge = edge.slice(common);
      child.parent = branch;
      addChild(branch, child);
      this.nodes += 1;
      if (pos + common === prefix.length) return branch;
      const leaf = new Node(prefix.slice(pos + common), branch);
      addChild(branch, leaf);
      this.nodes += 1;
      return leaf;
    }
    return node;
  }

  // The node of `prefix`, or undefined.
  find(prefix) {
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const child = node.children === null ? undefined : node.children.get(prefix.charCodeAt(pos));
      if (child === undefined || !prefix.startsWith(child.edge, pos)) return undefined;
      node = child;
      pos += child.edge.length;
    }
    return node;
  }

  // Call when `node`'s subscribers are gone (set to null): removes it and
  // any branch point left without a purpose.
  release(node) {
    while (node !== this.root && node.subscribers === null) {
      const parent = node.parent;
      const key = node.edge.charCodeAt(0);
      if (node.children === null) {
        parent.children.delete(key);
        if (parent.children.size === 0) parent.children = null;
        this.nodes -= 1;
        node = parent;
        continue;
      }
      if (node.children.size === 1) {
        const [child] = node.children.values();
        child.edge = node.edge + child.edge;
        child.parent = parent;
        parent.children.set(key, child);
        this.nodes -= 1;
      }
      return;
    }
  }

  // Pushes onto `out` the subscriber Set of every subscribed prefix of
  // `topic`, shortest first.
  collect(topic, out) {
    let node = this.root;
    let pos = 0;
    for (;;) {
      if (node.subscribers !== null) out.push(node.subscribers);
      if (pos === topic.length) return;
      const child = node.children === null ? undefined : node.children.get(topic.charCodeAt(pos));
      if (child === undefined || !topic.startsWith(child.edge, pos)) return;
      node = child;
      pos += child.edge.length;
    }
  }
}

module.exports = { PrefixTree };
