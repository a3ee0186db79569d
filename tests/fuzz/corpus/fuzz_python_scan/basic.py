import stbt
"""doc
def test_no():
"""
@d
def test_a():
    x = "s\"q"
async def test_b(): pass
