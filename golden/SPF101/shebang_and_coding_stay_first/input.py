#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Sort by magnitude, largest first.
def by_size(xs):
    def key(x):
        return -abs(x)

    return sorted(xs, key=key)
