def hello():
    print("hello", "world")
